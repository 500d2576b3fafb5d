#!/usr/bin/env bash
# The project's test command (README, CI): installs what is missing, then runs the same checks
# CI runs: formatting, lints (warnings are errors), the docker-compose file, and every test
# (unit tests and integration tests against real Dovecot started on 127.0.0.1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash integration/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== docker-compose config"
docker-compose -f docker-compose.yml config -q

echo "== cargo test"
cargo test --workspace --locked
