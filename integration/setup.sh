#!/usr/bin/env bash
# Installs what the tests and the local demo need, if missing: Dovecot (IMAP), Radicale
# (CalDAV/CardDAV), Cyrus IMAP with its CalDAV/CardDAV, Xandikos (CalDAV/CardDAV) behind nginx,
# Apache with mod_dav (the WebDAV file server of FILE folders), docker-compose (only to validate
# docker-compose.yml; no engine is needed), netcat (the README connects with nc), curl
# (readiness probes).
# Debian 12 only for Cyrus and Xandikos (the versions integration/backends/README.md describes).
# Runs apt-get as root, or through sudo when available. Idempotent.
#
# Cyrus: Debian's cyrus-imapd and dovecot-imapd conflict (both provide imap-server). So
# cyrus-common (master, tools, shared libraries) and cyrus-caldav (httpd, which does not
# conflict) are installed normally, and the cyrus-imapd package (imapd, idled) is only
# downloaded and unpacked into $AGAP_CYRUS_ROOT (default /opt/agap-cyrus), where
# integration/backends/cyrus.sh runs it from. It must have the version of cyrus-common: the
# unpacked copy is replaced whenever that version changes.
set -euo pipefail

readonly CYRUS_ROOT="${AGAP_CYRUS_ROOT:-/opt/agap-cyrus}"

# dovecot-imapd, radicale: the default backends; dovecot-lmtpd: Dovecot's LMTP (FSTO's delivery). cyrus-common, cyrus-caldav, db5.3-util (builds
# Cyrus's sasldb), libsasl2-modules (SASL PLAIN/LOGIN), eatmydata (Cyrus without fsync): Cyrus.
# xandikos, nginx: Xandikos behind Basic auth. apache2 (with apache2-utils' htpasswd): the file
# server of every pair (integration/backends/files.sh).
packages=(dovecot-imapd dovecot-lmtpd radicale docker-compose netcat-openbsd curl
    cyrus-common cyrus-caldav db5.3-util libsasl2-modules eatmydata
    xandikos nginx apache2)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

cyrus_version="$(dpkg-query -W -f='${Version}' cyrus-common 2>/dev/null || true)"
unpacked_version="$(cat "$CYRUS_ROOT/VERSION" 2>/dev/null || true)"

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
elif ((${#missing[@]} > 0)) || [[ -z "$cyrus_version" || "$cyrus_version" != "$unpacked_version" ]]; then
    echo "setup.sh: need root (or sudo) to install: ${missing[*]} ${CYRUS_ROOT}" >&2
    exit 1
fi

if ((${#missing[@]} > 0)); then
    echo "setup.sh: installing ${missing[*]}" >&2
    "${as_root[@]}" apt-get update -qq
    # The packages' own services are not wanted: the scripts in integration/backends start
    # private instances on loopback. policy-rc.d keeps apt from starting them where it applies.
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    cyrus_version="$(dpkg-query -W -f='${Version}' cyrus-common)"
fi

# cyrus-imapd, unpacked (not installed) into $CYRUS_ROOT, same version as cyrus-common.
if [[ "$cyrus_version" != "$unpacked_version" || ! -x "$CYRUS_ROOT/usr/lib/cyrus/bin/imapd" ]]; then
    echo "setup.sh: unpacking cyrus-imapd $cyrus_version into $CYRUS_ROOT" >&2
    download="$(mktemp -d)"
    trap 'rm -rf "$download"' EXIT
    chmod 0755 "$download" # apt's _apt user downloads into it
    if ! (cd "$download" && apt-get download -qq "cyrus-imapd=$cyrus_version" 2>/dev/null); then
        "${as_root[@]}" apt-get update -qq
        (cd "$download" && apt-get download -qq "cyrus-imapd=$cyrus_version")
    fi
    "${as_root[@]}" rm -rf "$CYRUS_ROOT.new"
    "${as_root[@]}" mkdir -p "$CYRUS_ROOT.new"
    "${as_root[@]}" dpkg-deb -x "$download"/cyrus-imapd_*.deb "$CYRUS_ROOT.new"
    echo "$cyrus_version" | "${as_root[@]}" tee "$CYRUS_ROOT.new/VERSION" >/dev/null
    "${as_root[@]}" rm -rf "$CYRUS_ROOT"
    "${as_root[@]}" mv "$CYRUS_ROOT.new" "$CYRUS_ROOT"
fi

if ! command -v cargo >/dev/null; then
    echo "setup.sh: cargo (Rust 1.95 or later) is required: https://rustup.rs" >&2
    exit 1
fi
