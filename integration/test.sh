#!/usr/bin/env bash
# The project's test command (README, CI): installs what is missing, then runs the same checks
# CI runs: formatting, lints (warnings are errors), the docker-compose file, and every test
# (unit tests, and the integration tests against real servers started on 127.0.0.1, on every
# backend pair).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash integration/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== docker-compose config"
docker-compose -f docker-compose.yml config -q

# The default pair (Dovecot + Radicale) runs with every other test; the integration tests then
# run again on each other backend pair (integration/tests/harness.rs, docs/backends.md).
# AGAP_TEST_PAIRS narrows that list (e.g. "cyrus"; empty: the default pair only).
pairs="${AGAP_TEST_PAIRS-cyrus dovecot-xandikos cyrus-xandikos}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
echo "== cargo test (dovecot-radicale)"
set +e
env -u AGAP_TEST_BACKENDS cargo test --workspace --locked 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
for pair in $pairs; do
    # Each server's corpus round trip runs once: cyrus-xandikos pairs servers whose corpora the
    # cyrus and dovecot-xandikos runs already cover (it is there for the records in the store).
    skip=()
    [[ "$pair" == cyrus-xandikos ]] && skip=(-- --skip every_corpus)
    echo "== cargo test --test integration (AGAP_TEST_BACKENDS=$pair ${skip[*]})"
    AGAP_TEST_BACKENDS="$pair" cargo test --locked --test integration "${skip[@]}" 2>&1 | tee -a "$log"
    pair_status=${PIPESTATUS[0]}
    if ((pair_status != 0)); then
        echo "integration tests failed on the pair $pair" | tee -a "$log"
        status=$pair_status
    fi
done
set -e
# cargo prints one "test result" line per test binary, the last one for doc-tests (often 0):
# close with the totals so that the final line speaks for the whole run.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1) } }
     /^integration tests failed on the pair/ { print }
     END { printf "total: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
