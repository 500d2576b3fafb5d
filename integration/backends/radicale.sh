#!/usr/bin/env bash
# Start/stop a private Radicale 3.1 CalDAV/CardDAV server on 127.0.0.1 for tests and the demo.
#
#   radicale.sh start DIR PORT   start in the background; prints the pid once HTTP answers
#   radicale.sh run DIR PORT     stay in the foreground; prints "READY <port>" once HTTP answers,
#                                then stops Radicale when stdin reaches EOF (or on SIGTERM/SIGINT)
#   radicale.sh stop DIR         stop the instance living in DIR (no-op if none)
#
# Everything of the instance lives in DIR: DIR/collections (storage), DIR/radicale.log (Radicale 3
# logs to stderr only, which is redirected there) and DIR/radicale.pid. The settings shared with
# docker-compose are in config/radicale/config; this script overrides only the listen address,
# the storage folder and the htpasswd path, which are the container's in that file. Accounts:
# config/accounts/users.htpasswd (same users and passwords as Dovecot's users.passwd).
# Radicale runs as the invoking user (root included: it never switches users).
# The verbs, checks and bounded waits shared with dovecot.sh are in common.sh; this file holds
# what is specific to Radicale.
#
# Environment: AGAP_BACKEND_WAIT_SECS (how long to wait for the port, default 10).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# What common.sh needs (described there).
readonly NAME=radicale
readonly PID_FILE=radicale.pid
readonly LOG_FILES=(radicale.log)
readonly OUT_FILE=radicale.log
readonly READY_DESC=HTTP
readonly SERVER_DESC=radicale
readonly SHARED_CONF="$REPO_ROOT/config/radicale/config"
readonly ACCOUNTS="$REPO_ROOT/config/accounts/users.htpasswd"
readonly SERVICE_ACCOUNTS="$REPO_ROOT/config/accounts/dav-service.htpasswd"

# True if 127.0.0.1:$1 answers HTTP at all (any status code).
server_answers() {
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null)" || true
    [[ -n "$code" && "$code" != "000" ]]
}

# Check the preconditions and build the command line. Sets SERVER_CMD.
prepare() {
    local dir="$1" port="$2"
    require_readable "$SHARED_CONF" "$ACCOUNTS" "$SERVICE_ACCOUNTS"
    command -v radicale >/dev/null || die "radicale is not installed (Debian package: radicale)"
    check_free "$dir" "$port"
    mkdir -p "$dir/collections"
    : >"$dir/radicale.log"
    # The users and the service account of FSTO; the rights are Radicale's owner_only for the
    # users, read and write on every user's collections for the service account (the first
    # section that matches wins).
    cat "$ACCOUNTS" "$SERVICE_ACCOUNTS" >"$dir/users.htpasswd"
    cat >"$dir/rights" <<'EOF'
[delivery]
user: agap-delivery
collection: .*
permissions: Rrw

[root]
user: .+
collection:
permissions: R

[principal]
user: .+
collection: {user}
permissions: RW

[collections]
user: .+
collection: {user}/[^/]+
permissions: rw
EOF
    # --config replaces the default search path (/etc/radicale/config, ~/.config/radicale/config),
    # so nothing of the system's configuration leaks in.
    SERVER_CMD=(radicale --config "$SHARED_CONF"
        --server-hosts "127.0.0.1:$port"
        --storage-filesystem-folder "$dir/collections"
        --auth-htpasswd-filename "$dir/users.htpasswd"
        --rights-type from_file
        --rights-file "$dir/rights")
}

# Radicale 3 has no daemon mode: detach it into its own session, stdio away from the caller.
start_server() {
    local dir="$1"
    setsid "${SERVER_CMD[@]}" </dev/null >>"$dir/radicale.log" 2>&1 &
    START_PID=$!
    server_launched "$dir" "$START_PID"
}

# Radicale writes no pid file; the script keeps it.
server_launched() {
    echo "$2" >"$1/radicale.pid"
}

# SIGTERM (Radicale shuts down cleanly on it), bounded wait, then SIGKILL.
stop_server() {
    term_then_kill "$2" pid || true
}

main "$@"
