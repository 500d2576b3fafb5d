#!/usr/bin/env bash
# Starts a local stack for trying the gateway by hand: Dovecot and Radicale on 127.0.0.1 with the
# demo accounts of config/accounts (demo/demo, alice/alice-pass, user1/pass-user1, ...), then the
# gateway with config/gateway.example.toml. Ctrl-C, or SIGINT/SIGTERM to this script's pid, stops
# everything it started.
#
#   integration/demo.sh [--reset]     --reset (or AGAP_DEMO_RESET=1): delete the state folder first
#
# Environment (the README's "Demo" section lists the same):
#   AGAP_DEMO_PORT       the gateway's AGAP port (default 4110)
#   AGAP_DEMO_IMAP_PORT  Dovecot's IMAP port (default 10143)
#   AGAP_DEMO_DAV_PORT   Radicale's port (default 15232)
#   AGAP_DEMO_LMTP_PORT  Dovecot's LMTP port, FSTO's delivery path (default 10024)
#   AGAP_DEMO_DIR        state: mail, calendars, the gateway's store (default /tmp/agap-demo);
#                        kept between runs, so folders made in one run exist in the next
#   AGAP_DEMO_RESET=1    as --reset
#   AGAP_DEMO_SKIP_SETUP=1  do not run integration/setup.sh (the packages are known to be there)
#   AGAP_DEMO_BINARY     run this gateway binary instead of building the release one (the test of
#                        this script's signal handling uses the debug build, to skip the long
#                        release build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

reset="${AGAP_DEMO_RESET:-}"
for argument in "$@"; do
    case "$argument" in
        --reset) reset=1 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo.sh: unknown argument $argument (try --help)" >&2; exit 2 ;;
    esac
done

state="${AGAP_DEMO_DIR:-/tmp/agap-demo}"
port="${AGAP_DEMO_PORT:-4110}"
imap_port="${AGAP_DEMO_IMAP_PORT:-10143}"
dav_port="${AGAP_DEMO_DAV_PORT:-15232}"
lmtp_port="${AGAP_DEMO_LMTP_PORT:-10024}"

port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Before the (long) first build: every port must be free, else nothing would work afterwards.
for entry in "gateway:$port:AGAP_DEMO_PORT" "IMAP:$imap_port:AGAP_DEMO_IMAP_PORT" "DAV:$dav_port:AGAP_DEMO_DAV_PORT" "LMTP:$lmtp_port:AGAP_DEMO_LMTP_PORT"; do
    IFS=: read -r what number variable <<<"$entry"
    if port_taken "$number"; then
        echo "demo.sh: 127.0.0.1:$number ($what) is already in use (another demo still running?);" \
            "choose another port with $variable=..." >&2
        exit 1
    fi
done

if [ "${AGAP_DEMO_SKIP_SETUP:-}" != 1 ]; then
    bash integration/setup.sh
fi

if [ -n "$reset" ] && [ "$reset" != 0 ]; then
    echo "== reset: removing $state"
    bash integration/backends/dovecot.sh stop "$state/dovecot" || true
    bash integration/backends/radicale.sh stop "$state/radicale" || true
    rm -rf "$state"
fi
mkdir -p "$state/dovecot" "$state/radicale"

# The child running in the foreground (the build, then the gateway): started in the background
# and waited for, so that a signal to this script runs its trap at once instead of after the
# child ends; the trap passes the signal on.
child=""
stop_backends() {
    bash integration/backends/dovecot.sh stop "$state/dovecot" || true
    bash integration/backends/radicale.sh stop "$state/radicale" || true
}
stop_all() {
    local status="$1"
    trap - INT TERM EXIT
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
    stop_backends
    exit "$status"
}
trap 'stop_all 130' INT
trap 'stop_all 143' TERM
trap 'stop_all $?' EXIT
run_child() {
    "$@" &
    child=$!
    wait "$child"
    child=""
}

binary="${AGAP_DEMO_BINARY:-}"
if [ -z "$binary" ]; then
    echo "== building the gateway (release; the first build takes several minutes)"
    run_child cargo build --release --locked --bin agap-gateway
    binary=./target/release/agap-gateway
fi

stop_backends
AGAP_LMTP_PORT="$lmtp_port" bash integration/backends/dovecot.sh start "$state/dovecot" "$imap_port" >/dev/null
bash integration/backends/radicale.sh start "$state/radicale" "$dav_port" >/dev/null

cat <<TXT

Dovecot (IMAP) on 127.0.0.1:$imap_port (LMTP on $lmtp_port), Radicale on 127.0.0.1:$dav_port; state in $state
(kept between runs; start with --reset for a clean one).
The gateway listens on 127.0.0.1:$port. Connect and log in with:

    nc 127.0.0.1 $port
    AUTH PLAIN
    USER demo
    PASS demo
    LIST /*

A mail client can watch the same mailboxes: IMAP 127.0.0.1:$imap_port, user demo, password demo.
Stop with Ctrl-C.

TXT

# The demo backends listen on loopback without TLS, which the gateway accepts only when told.
AGAP_SERVER__LISTEN="[\"127.0.0.1:$port\"]" \
AGAP_IMAP__PORT="$imap_port" \
AGAP_IMAP__SECURITY=plain \
AGAP_DAV__URL="http://127.0.0.1:$dav_port/" \
AGAP_DAV__ALLOW_PLAIN=true \
AGAP_DELIVERY__LMTP="127.0.0.1:$lmtp_port" \
AGAP_STORE__URL="sqlite://$state/gateway.db" \
MALLOC_MMAP_THRESHOLD_=131072 \
    run_child "$binary" --config config/gateway.example.toml
