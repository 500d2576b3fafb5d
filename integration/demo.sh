#!/usr/bin/env bash
# Starts a local stack for trying the gateway by hand: Dovecot and Radicale on 127.0.0.1 with the
# demo accounts of config/accounts (demo/demo, alice/alice-pass, ...), then the gateway on
# 127.0.0.1:4110 with config/gateway.example.toml. Ctrl-C stops everything.
#
# Environment: AGAP_DEMO_DIR (state, default /tmp/agap-demo), AGAP_DEMO_IMAP_PORT (default 10143),
# AGAP_DEMO_DAV_PORT (default 15232).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash integration/setup.sh

state="${AGAP_DEMO_DIR:-/tmp/agap-demo}"
imap_port="${AGAP_DEMO_IMAP_PORT:-10143}"
dav_port="${AGAP_DEMO_DAV_PORT:-15232}"
mkdir -p "$state/dovecot" "$state/radicale"

stop_backends() {
    bash integration/backends/dovecot.sh stop "$state/dovecot" || true
    bash integration/backends/radicale.sh stop "$state/radicale" || true
}
trap stop_backends EXIT

echo "== building the gateway"
cargo build --release --locked --bin agap-gateway

stop_backends
bash integration/backends/dovecot.sh start "$state/dovecot" "$imap_port" >/dev/null
bash integration/backends/radicale.sh start "$state/radicale" "$dav_port" >/dev/null

cat <<TXT

Dovecot (IMAP) on 127.0.0.1:$imap_port, Radicale on 127.0.0.1:$dav_port; state in $state.
The gateway listens on 127.0.0.1:4110. Connect and log in with:

    nc 127.0.0.1 4110
    AUTH PLAIN
    USER demo
    PASS demo
    LIST /*

A mail client can watch the same mailboxes: IMAP 127.0.0.1:$imap_port, user demo, password demo.
Stop with Ctrl-C.

TXT

# The demo backends listen on loopback without TLS, which the gateway accepts only when told.
AGAP_IMAP__PORT="$imap_port" \
AGAP_IMAP__SECURITY=plain \
AGAP_DAV__URL="http://127.0.0.1:$dav_port/" \
AGAP_DAV__ALLOW_PLAIN=true \
AGAP_STORE__URL="sqlite://$state/gateway.db" \
MALLOC_MMAP_THRESHOLD_=131072 \
    ./target/release/agap-gateway --config config/gateway.example.toml
