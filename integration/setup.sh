#!/usr/bin/env bash
# Installs what the tests and the local demo need, if missing: Dovecot (IMAP), Radicale
# (CalDAV/CardDAV), docker-compose (only to validate docker-compose.yml; no engine is needed),
# netcat (the README connects with nc).
# Debian/Ubuntu only. Runs apt-get as root, or through sudo when available.
set -euo pipefail

packages=(dovecot-imapd radicale docker-compose netcat-openbsd)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} > 0)); then
    if [[ $(id -u) -eq 0 ]]; then
        as_root=()
    elif command -v sudo >/dev/null; then
        as_root=(sudo)
    else
        echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
    echo "setup.sh: installing ${missing[*]}" >&2
    "${as_root[@]}" apt-get update -qq
    # The packages' own services are not wanted: the scripts in integration/backends start
    # private instances on loopback. policy-rc.d keeps apt from starting them where it applies.
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
    echo "setup.sh: cargo (Rust 1.95 or later) is required: https://rustup.rs" >&2
    exit 1
fi
