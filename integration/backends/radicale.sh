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
#
# Environment: AGAP_BACKEND_WAIT_SECS (how long to wait for the port, default 10).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
readonly REPO_ROOT
readonly SHARED_CONF="$REPO_ROOT/config/radicale/config"
readonly ACCOUNTS="$REPO_ROOT/config/accounts/users.htpasswd"
readonly WAIT_SECS="${AGAP_BACKEND_WAIT_SECS:-10}"

usage() {
    echo "usage: $0 start DIR PORT | run DIR PORT | stop DIR" >&2
    exit 2
}

die() {
    echo "radicale.sh: $*" >&2
    exit 1
}

log_tail() {
    local f="$1/radicale.log"
    if [[ -s "$f" ]]; then
        echo "--- last lines of $f ---" >&2
        tail -n 30 "$f" >&2 || true
    fi
}

check_port() {
    if ! [[ "$1" =~ ^[1-9][0-9]{0,4}$ ]] || (("$1" < 1 || "$1" > 65535)); then
        die "invalid port: $1"
    fi
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True if 127.0.0.1:$1 answers HTTP at all (any status code).
http_answers() {
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null)" || true
    [[ -n "$code" && "$code" != "000" ]]
}

# True if $1 is a live process whose command line mentions radicale (guards against pid reuse).
is_radicale_pid() {
    [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null && grep -qa radicale "/proc/$1/cmdline" 2>/dev/null
}

saved_pid() {
    local f="$1/radicale.pid"
    if [[ -r "$f" ]]; then
        head -n 1 "$f"
    fi
}

# Wait (bounded) until HTTP answers; on failure print why and the log tail, and return 1.
wait_ready() {
    local dir="$1" port="$2" pid="$3" deadline=$((SECONDS + WAIT_SECS))
    while ((SECONDS < deadline)); do
        if http_answers "$port"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "radicale.sh: radicale (pid $pid) exited before answering on 127.0.0.1:$port" >&2
            log_tail "$dir"
            return 1
        fi
        sleep 0.1
    done
    echo "radicale.sh: radicale did not answer HTTP on 127.0.0.1:$port within ${WAIT_SECS}s" >&2
    log_tail "$dir"
    return 1
}

# SIGTERM (Radicale shuts down cleanly on it), bounded wait, then SIGKILL.
stop_pid() {
    local pid="$1" deadline=$((SECONDS + WAIT_SECS))
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "radicale.sh: pid $pid ignored SIGTERM for ${WAIT_SECS}s, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

# Check the preconditions and build the command line. Sets CMD.
prepare() {
    local dir="$1" port="$2" pid
    [[ -r "$SHARED_CONF" ]] || die "missing $SHARED_CONF"
    [[ -r "$ACCOUNTS" ]] || die "missing $ACCOUNTS"
    command -v radicale >/dev/null || die "radicale is not installed (Debian package: radicale)"
    pid="$(saved_pid "$dir")"
    if is_radicale_pid "$pid"; then
        die "an instance already runs in $dir (pid $pid)"
    fi
    port_open "$port" && die "127.0.0.1:$port is already in use"
    mkdir -p "$dir/collections"
    : >"$dir/radicale.log"
    # --config replaces the default search path (/etc/radicale/config, ~/.config/radicale/config),
    # so nothing of the system's configuration leaks in.
    CMD=(radicale --config "$SHARED_CONF"
        --server-hosts "127.0.0.1:$port"
        --storage-filesystem-folder "$dir/collections"
        --auth-htpasswd-filename "$ACCOUNTS")
}

abs_dir() {
    mkdir -p "$1"
    (cd "$1" && pwd -P)
}

cmd_start() {
    local dir port pid
    check_port "$2"
    dir="$(abs_dir "$1")"
    port="$2"
    prepare "$dir" "$port"
    # Radicale 3 has no daemon mode: detach it into its own session, stdio away from the caller.
    setsid "${CMD[@]}" </dev/null >>"$dir/radicale.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/radicale.pid"
    wait_ready "$dir" "$port" "$pid" || {
        stop_pid "$pid"
        exit 1
    }
    echo "$pid"
}

cmd_run() {
    local dir port
    check_port "$2"
    dir="$(abs_dir "$1")"
    port="$2"
    prepare "$dir" "$port"
    exec 3<&0 # background jobs get /dev/null as stdin unless told otherwise
    # --pdeathsig: should this script be SIGKILLed, Radicale still gets SIGTERM.
    setpriv --pdeathsig TERM -- "${CMD[@]}" </dev/null >>"$dir/radicale.log" 2>&1 &
    RUN_PID=$!
    CAT_PID=""
    echo "$RUN_PID" >"$dir/radicale.pid"
    trap run_cleanup EXIT
    trap 'exit 143' TERM INT HUP
    wait_ready "$dir" "$port" "$RUN_PID" || exit 1
    echo "READY $port"
    cat <&3 >/dev/null &
    CAT_PID=$!
    exec 3<&-
    # Return when stdin reaches EOF or when Radicale exits on its own (e.g. "stop DIR").
    wait -n "$RUN_PID" "$CAT_PID" || true
}

# EXIT trap of "run": whatever ended the wait (EOF, signal, failure), stop Radicale and reap it.
run_cleanup() {
    [[ -z "$CAT_PID" ]] || kill "$CAT_PID" 2>/dev/null || true
    stop_pid "$RUN_PID"
    wait "$RUN_PID" 2>/dev/null || true
}

cmd_stop() {
    local dir="$1" pid
    [[ -d "$dir" ]] || return 0
    pid="$(saved_pid "$dir")"
    is_radicale_pid "$pid" || return 0
    stop_pid "$pid"
    if kill -0 "$pid" 2>/dev/null; then
        die "radicale $pid is still running"
    fi
}

main() {
    (($# >= 1)) || usage
    case "$1" in
    start | run)
        (($# == 3)) || usage
        "cmd_$1" "$2" "$3"
        ;;
    stop)
        (($# == 2)) || usage
        cmd_stop "$2"
        ;;
    *) usage ;;
    esac
}

main "$@"
