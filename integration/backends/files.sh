#!/usr/bin/env bash
# Start/stop a private Apache 2.4 WebDAV file server (mod_dav, mod_dav_fs, HTTP Basic) on
# 127.0.0.1 for tests: the upstream of the gateway's FILE folders (docs/files.md).
#
#   files.sh start DIR PORT   start in the background; prints the Apache parent's pid once HTTP answers
#   files.sh run DIR PORT     stay in the foreground; prints "READY <port>" once HTTP answers,
#                             then stops Apache when stdin reaches EOF (or on SIGTERM/SIGINT)
#   files.sh stop DIR         stop the instance living in DIR (no-op if none)
#
# Every account of config/accounts/users.htpasswd (the users and passwords of the other
# backends) gets the directory http://127.0.0.1:PORT/files/<user>/, which only that user may
# read or write (Basic auth); /files/ itself and everything else is refused (403). Nothing of
# the system's Apache (/etc/apache2, its service, its envvars) is used: the configuration is
# generated into DIR and names every module it loads.
#
# Everything of the instance lives in DIR: apache-files.conf, users.htpasswd ({SHA} hashes:
# Apache on Unix reads no clear passwords), data/files/<user>/ (the shares; mod_dav_fs keeps dead
# properties in .DAV/ folders there), lock/ (DavLockDB), run/ (runtime files), apache.pid,
# error.log, access.log, apache.out (the parent's stdout and stderr).
# As root, the parent binds the port and the children serve as $AGAP_FILES_USER (default
# www-data, which the apache2 package creates; Apache never serves as root), which then owns
# data/ and lock/. As another user, every process runs as that user.
#
# Environment: AGAP_FILES_USER (root only, default www-data),
#              AGAP_BACKEND_WAIT_SECS (every wait, default 10).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# What common.sh needs (described there). A pid is this instance's if its command line mentions
# NAME: the configuration file's name carries it (apache2 -f DIR/apache-files.conf).
readonly NAME=files
readonly PID_FILE=apache.pid
readonly LOG_FILES=(error.log apache.out)
readonly OUT_FILE=apache.out
readonly READY_DESC=HTTP
readonly SERVER_DESC="apache2 parent"
readonly ACCOUNTS="$REPO_ROOT/config/accounts/users.htpasswd"
readonly APACHE=/usr/sbin/apache2
readonly MODULES=/usr/lib/apache2/modules
readonly SERVE_AS="${AGAP_FILES_USER:-www-data}"

# True if 127.0.0.1:$1 answers HTTP at all (any status code).
server_answers() {
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null)" || true
    [[ -n "$code" && "$code" != "000" ]]
}

# The test accounts as "user password" lines (comments and blank lines left out).
accounts() {
    awk -F: '/^[[:space:]]*(#|$)/ { next } { user = $1; sub(/^[^:]*:/, ""); print user, $0 }' "$ACCOUNTS"
}

# Check the preconditions and write DIR's files. Sets SERVER_CMD.
prepare() {
    local dir="$1" port="$2"
    require_readable "$ACCOUNTS"
    [[ -x "$APACHE" && -r "$MODULES/mod_dav_fs.so" ]] && command -v htpasswd >/dev/null ||
        die "apache2 is not installed (Debian package apache2, with apache2-utils)"
    # The directory is written into the configuration unescaped.
    [[ "$dir" =~ ^[A-Za-z0-9._/+-]+$ ]] ||
        die "DIR may contain only letters, digits and . _ / + - (Apache configuration): $dir"
    check_free "$dir" "$port"

    rm -rf "$dir/run"
    mkdir -p "$dir/data/files" "$dir/lock" "$dir/run"
    : >"$dir/apache.out"

    # {SHA} (htpasswd -s): base64 of the SHA-1 digest, which Apache accepts on every platform (no
    # salt: these are test passwords, and hashing 104 of them must not slow the start down).
    local user password owners=""
    : >"$dir/users.htpasswd"
    while read -r user password; do
        [[ "$user" =~ ^[A-Za-z0-9._-]+$ ]] || die "unexpected account name in $ACCOUNTS: $user"
        printf '%s' "$password" | htpasswd -ins "$user" >>"$dir/users.htpasswd"
        mkdir -p "$dir/data/files/$user"
        owners+="<Directory \"$dir/data/files/$user\">
    Require user $user
</Directory>
"
    done < <(accounts)

    local identity
    if (($(id -u) == 0)); then
        getent passwd "$SERVE_AS" >/dev/null || die "user $SERVE_AS does not exist (set AGAP_FILES_USER)"
        local uid gid
        uid="$(id -u "$SERVE_AS")"
        gid="$(id -g "$SERVE_AS")"
        # The children must reach DIR (a tempdir is often 0700) and own what they write.
        chmod 0755 "$dir"
        chown -R "$SERVE_AS:" "$dir/data" "$dir/lock"
        chown "root:$gid" "$dir/users.htpasswd"
        chmod 0640 "$dir/users.htpasswd"
        setpriv --reuid="$uid" --regid="$gid" --clear-groups test -w "$dir/data/files" -a -x "$dir/data/files" ||
            die "user $SERVE_AS cannot write $dir/data/files: a parent directory of $dir is not searchable by others (chmod o+x it or choose another DIR)"
        identity="# Started as root: the children serve as $SERVE_AS.
User #$uid
Group #$gid"
    else
        identity="# Started as $(id -un): every process runs as that user."
    fi

    cat >"$dir/apache-files.conf" <<EOF
# Generated by integration/backends/files.sh -- do not edit, it is rewritten on every start.
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$dir/apache.pid"
DefaultRuntimeDir "$dir/run"
ErrorLog "$dir/error.log"
LogLevel warn
$identity

LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authn_core_module $MODULES/mod_authn_core.so
LoadModule authn_file_module $MODULES/mod_authn_file.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule authz_user_module $MODULES/mod_authz_user.so
LoadModule auth_basic_module $MODULES/mod_auth_basic.so
LoadModule mime_module $MODULES/mod_mime.so
LoadModule dav_module $MODULES/mod_dav.so
LoadModule dav_fs_module $MODULES/mod_dav_fs.so

# Few processes: the tests share a 2-core machine.
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
KeepAlive On
Timeout 60

LogFormat "%h %u \"%r\" %>s %b" short
CustomLog "$dir/access.log" short
TypesConfig /dev/null
DocumentRoot "$dir/data"
DavLockDB "$dir/lock/davlock"

<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>

# Everything below data/ speaks WebDAV behind Basic auth; only a user's own directory is open to
# that user (the sections below), /files/ itself to nobody.
<Directory "$dir/data">
    Dav On
    Options None
    AllowOverride None
    AuthType Basic
    AuthName "agap-files"
    AuthBasicProvider file
    AuthUserFile "$dir/users.htpasswd"
    # A known user outside their own directory gets 403, not a new challenge (401 would read as
    # a wrong password).
    AuthzSendForbiddenOnFailure On
    Require all denied
</Directory>

$owners
EOF
    "$APACHE" -t -d "$dir" -f "$dir/apache-files.conf" >>"$dir/apache.out" 2>&1 || {
        log_tail "$dir"
        die "invalid Apache configuration $dir/apache-files.conf"
    }
    SERVER_CMD=("$APACHE" -d "$dir" -f "$dir/apache-files.conf" -DFOREGROUND)
}

# Apache daemonizes itself without -DFOREGROUND and writes PID_FILE.
start_server() {
    local dir="$1"
    "$APACHE" -d "$dir" -f "$dir/apache-files.conf" </dev/null >>"$dir/apache.out" 2>&1 ||
        die "apache2 did not start"
}

# Apache writes its own pid file, in the foreground too.
server_launched() {
    :
}

# SIGTERM stops the parent and its children at once; bounded wait, then SIGKILL.
stop_server() {
    term_then_kill "$2" "apache2 parent" || true
}

main "$@"
