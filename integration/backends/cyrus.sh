#!/usr/bin/env bash
# Start/stop a private Cyrus IMAP 3.6 (IMAP, plus CalDAV/CardDAV) on 127.0.0.1 for tests.
#
#   cyrus.sh start DIR PORT   start in the background; prints the master pid once the ports answer
#   cyrus.sh run DIR PORT     stay in the foreground; prints "READY <port> <dav_port>" (or
#                             "READY <port>" without DAV) once the ports answer and every test
#                             account has its INBOX, then stops Cyrus when stdin reaches EOF (or
#                             on SIGTERM/SIGINT)
#   cyrus.sh stop DIR         stop the instance living in DIR (no-op if none)
#
# PORT gets imapd (plain IMAP, LOGIN allowed). AGAP_CYRUS_DAV_PORT, if set, gets httpd with the
# caldav and carddav modules (HTTP Basic): /dav/principals/user/<user>/,
# /dav/calendars/user/<user>/Default/, /dav/addressbooks/user/<user>/Default/.
#
# Everything of the instance lives in DIR (imapd.conf, cyrus.conf, sasldb2, configdirectory,
# spool, sockets, pid file), so it never touches /etc/imapd.conf, /var/lib/cyrus or the system
# service. Binaries: cyrus-common and cyrus-caldav are installed normally (master, httpd, tools in
# /usr/lib/cyrus/bin); imapd and idled come from the cyrus-imapd .deb unpacked into
# $AGAP_CYRUS_ROOT (default /opt/agap-cyrus) by integration/setup.sh, because Debian's
# cyrus-imapd conflicts with dovecot-imapd. Shared settings: config/cyrus/imapd.conf and
# config/cyrus/annotations.conf; accounts: config/accounts/users.passwd (users),
# admin-users.passwd (admins), master-users.passwd (proxy servers).
#
# Cyrus refuses to run as root: as root the master binds the ports and then runs as
# $AGAP_CYRUS_USER (default "cyrus", created by cyrus-common), which owns DIR's contents. As
# another user everything runs as that user. Cyrus logs only to syslog ("agap-cyrus-<port>").
# If libeatmydata is installed (package eatmydata), Cyrus runs with it (no fsync: about 5 times
# faster mailbox creation); AGAP_CYRUS_EATMYDATA=0 turns that off.
#
# AGAP_CYRUS_UNDEFINED_ANNOTATIONS=yes sets `annotation_allow_undefined: yes`, the setting an
# operator gives a production Cyrus so that the gateway keeps its folder records upstream
# (docs/backends.md); unset or "no" keeps Cyrus's default, under which the gateway falls back to
# its own store. The integration harness runs one pair each way.
#
# AGAP_LMTP_PORT, if set, gets lmtpd (LMTP, RFC 2033) on 127.0.0.1: over TCP Cyrus admits only
# authenticated admins (config/accounts/admin-users.passwd), which is how the gateway's FSTO logs
# in there.
#
# Environment: AGAP_CYRUS_DAV_PORT, AGAP_LMTP_PORT, AGAP_CYRUS_ROOT, AGAP_CYRUS_USER (root only),
#              AGAP_CYRUS_EATMYDATA, AGAP_CYRUS_UNDEFINED_ANNOTATIONS,
#              AGAP_BACKEND_WAIT_SECS (every wait, default 10).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# What common.sh needs (described there).
readonly NAME=cyrus
readonly PID_FILE=master.pid
readonly LOG_FILES=(cyrus.out)
readonly OUT_FILE=cyrus.out
readonly SERVER_DESC="cyrus master"
readonly SHARED_CONF="$REPO_ROOT/config/cyrus/imapd.conf"
readonly ANNOTATIONS="$REPO_ROOT/config/cyrus/annotations.conf"
readonly ACCOUNTS="$REPO_ROOT/config/accounts/users.passwd"
readonly ADMIN_ACCOUNTS="$REPO_ROOT/config/accounts/admin-users.passwd"
readonly MASTER_ACCOUNTS="$REPO_ROOT/config/accounts/master-users.passwd"
readonly CYRUS_ROOT="${AGAP_CYRUS_ROOT:-/opt/agap-cyrus}"
readonly IMAPD="$CYRUS_ROOT/usr/lib/cyrus/bin/imapd"
readonly IDLED="$CYRUS_ROOT/usr/lib/cyrus/bin/idled"
readonly LIBEXEC=/usr/lib/cyrus/bin
readonly DAV_PORT="${AGAP_CYRUS_DAV_PORT:-}"
readonly LMTP_PORT="${AGAP_LMTP_PORT:-}"
readonly UNDEFINED_ANNOTATIONS="${AGAP_CYRUS_UNDEFINED_ANNOTATIONS:-no}"
[[ "$UNDEFINED_ANNOTATIONS" == yes || "$UNDEFINED_ANNOTATIONS" == no ]] ||
    die "AGAP_CYRUS_UNDEFINED_ANNOTATIONS must be yes or no, not '$UNDEFINED_ANNOTATIONS'"
if [[ -n "$DAV_PORT" ]]; then
    readonly READY_DESC="'* OK' on IMAP and HTTP on 127.0.0.1:$DAV_PORT"
else
    readonly READY_DESC="'* OK'"
fi
# The longest unix socket below DIR is imapd's "conf/socket/idle.<pid>"; a socket path has at most
# 107 bytes.
readonly MAX_DIR_LEN=80

# True if 127.0.0.1:$1 answers with an IMAP "* OK" greeting and, with DAV, the DAV port answers
# HTTP.
server_answers() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        IFS= read -r -t 2 line <&3 || exit 1
        printf 'a LOGOUT\r\n' >&3 || true
        [[ "$line" == "* OK"* ]]
    ) 2>/dev/null || return 1
    [[ -z "$DAV_PORT" ]] && return 0
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$DAV_PORT/" 2>/dev/null)" || true
    [[ -n "$code" && "$code" != "000" ]]
}

ready_line() {
    echo "READY $1${DAV_PORT:+ $DAV_PORT}"
}

# "name password" lines of a passwd-file with {PLAIN} passwords (comments and blanks skipped).
plain_accounts() {
    awk -F: '/^[[:space:]]*(#|$)/ { next } { p = $2; sub(/^\{PLAIN\}/, "", p); print $1, p }' "$@"
}

# DIR/sasldb2 in one go with db_load (saslpasswd2 takes 25 ms per account): keys are
# "user\0realm\0userPassword", values the clear-text password, realm = servername.
write_sasldb() {
    local db="$1"
    shift
    rm -f "$db"
    plain_accounts "$@" | awk '
        BEGIN { print "VERSION=3"; print "format=print"; print "type=hash"; print "HEADER=END" }
        { gsub(/\\/, "\\\\", $1); gsub(/\\/, "\\\\", $2)
          printf " %s\\00localhost\\00userPassword\n %s\n", $1, $2 }
        END { print "DATA=END" }' | db5.3_load "$db"
}

# Write DIR's configuration and directories. Sets SERVER_CMD.
prepare() {
    local dir="$1" port="$2"
    require_readable "$SHARED_CONF" "$ANNOTATIONS" "$ACCOUNTS" "$ADMIN_ACCOUNTS" "$MASTER_ACCOUNTS"
    local bin
    for bin in "$LIBEXEC/master" "$LIBEXEC/ctl_cyrusdb" "$IMAPD" "$IDLED"; do
        [[ -x "$bin" ]] || die "missing $bin (run integration/setup.sh: cyrus-common, and cyrus-imapd unpacked into $CYRUS_ROOT)"
    done
    # imapd links against cyrus-common's libraries: same version only.
    local common unpacked
    common="$(dpkg-query -W -f='${Version}' cyrus-common 2>/dev/null || true)"
    unpacked="$(cat "$CYRUS_ROOT/VERSION" 2>/dev/null || true)"
    [[ -z "$common" || -z "$unpacked" || "$common" == "$unpacked" ]] ||
        die "$CYRUS_ROOT holds cyrus-imapd $unpacked but cyrus-common is $common (run integration/setup.sh)"
    check_free "$dir" "$port"
    command -v db5.3_load >/dev/null || die "db5.3_load is missing (Debian package db5.3-util)"
    if [[ -n "$DAV_PORT" ]]; then
        check_port "$DAV_PORT"
        [[ "$DAV_PORT" != "$port" ]] || die "AGAP_CYRUS_DAV_PORT must differ from PORT"
        [[ -x "$LIBEXEC/httpd" ]] || die "missing $LIBEXEC/httpd (Debian package cyrus-caldav)"
        ! port_open "$DAV_PORT" || die "127.0.0.1:$DAV_PORT (AGAP_CYRUS_DAV_PORT) is already in use"
    fi
    # cyrus.conf splits cmd= at spaces; sockets live below DIR.
    [[ "$dir" =~ ^[A-Za-z0-9._/+-]+$ ]] ||
        die "DIR may contain only letters, digits and . _ / + - (Cyrus command lines): $dir"
    ((${#dir} <= MAX_DIR_LEN)) ||
        die "DIR is ${#dir} characters long; Cyrus's unix sockets below it would exceed the 107-byte limit (keep DIR <= $MAX_DIR_LEN characters)"

    local user group
    if (($(id -u) == 0)); then
        user="${AGAP_CYRUS_USER:-cyrus}"
        getent passwd "$user" >/dev/null || die "user '$user' is missing (it comes with cyrus-common; or set AGAP_CYRUS_USER)"
    else
        user="$(id -un)" || die "the current uid has no user name; Cyrus needs one"
    fi
    group="$(id -gn "$user")"

    # Sockets stay in their default folder, configdirectory/socket: imapd binds its own IDLE
    # socket there (socket/idle.<pid>) whatever idlesocket says.
    rm -rf "$dir/run" "$dir/conf/socket"
    mkdir -p "$dir/conf/socket" "$dir/spool" "$dir/run/proc" "$dir/run/lock"
    : >"$dir/cyrus.out"
    install -m 0644 "$ANNOTATIONS" "$dir/annotations.conf"
    write_sasldb "$dir/sasldb2" "$ACCOUNTS" "$ADMIN_ACCOUNTS" "$MASTER_ACCOUNTS"
    chmod 0600 "$dir/sasldb2"

    {
        echo "# Generated by integration/backends/cyrus.sh -- do not edit, it is rewritten on every start."
        echo "# Shared part: $SHARED_CONF"
        sed "s/^annotation_allow_undefined: .*/annotation_allow_undefined: $UNDEFINED_ANNOTATIONS/" "$SHARED_CONF"
        cat <<EOF

# Instance (DIR, ports, user)
cyrus_user: $user
cyrus_group: $group
syslog_prefix: agap-cyrus-$port
configdirectory: $dir/conf
defaultpartition: default
partition-default: $dir/spool
proc_path: $dir/run/proc
mboxname_lockpath: $dir/run/lock
sasl_sasldb_path: $dir/sasldb2
annotation_definitions: $dir/annotations.conf
EOF
    } >"$dir/imapd.conf"

    # Every command gets -C: services do not inherit the master's configuration file.
    local conf="$dir/imapd.conf" http="" lmtp=""
    if [[ -n "$DAV_PORT" ]]; then
        http="  http cmd=\"$LIBEXEC/httpd -C $conf\" listen=\"127.0.0.1:$DAV_PORT\" prefork=0"
    fi
    if [[ -n "$LMTP_PORT" ]]; then
        check_port "$LMTP_PORT"
        lmtp="  lmtp cmd=\"$LIBEXEC/lmtpd -C $conf\" listen=\"127.0.0.1:$LMTP_PORT\" prefork=0"
    fi
    cat >"$dir/cyrus.conf" <<EOF
# Generated by integration/backends/cyrus.sh -- do not edit, it is rewritten on every start.
START {
  recover cmd="$LIBEXEC/ctl_cyrusdb -C $conf -r"
}
SERVICES {
  imap cmd="$IMAPD -C $conf" listen="127.0.0.1:$port" prefork=0
$http
$lmtp
}
EVENTS {
  checkpoint cmd="$LIBEXEC/ctl_cyrusdb -C $conf -c" period=30
}
DAEMON {
  idled cmd="$IDLED -C $conf"
}
EOF

    if (($(id -u) == 0)); then
        # The master drops to $user, which must own everything below DIR and reach DIR.
        chmod 0755 "$dir"
        chown -R "$user:$group" "$dir/conf" "$dir/spool" "$dir/run"
        chown "$user:$group" "$dir/sasldb2" "$dir/annotations.conf" "$dir/imapd.conf" "$dir/cyrus.conf"
        setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --clear-groups test -w "$dir/conf" -a -r "$dir/imapd.conf" ||
            die "user $user cannot reach $dir: a parent directory of $dir is not searchable by others (chmod o+x it or choose another DIR)"
    fi

    local preload=() lib
    lib="$(compgen -G '/usr/lib/*/libeatmydata.so' | head -n 1)" || true
    if [[ "${AGAP_CYRUS_EATMYDATA:-1}" != 0 && -n "$lib" ]]; then
        preload=(env "LD_PRELOAD=$lib")
    fi
    # setsid: on SIGTERM the master signals its whole process group (kill(0, SIGTERM)), which
    # without a session of its own would include this script and the test harness that runs it.
    # (setsid does not fork here: the command is never a process group leader, so pids stay.)
    SERVER_CMD=(setsid "${preload[@]}" "$LIBEXEC/master" -C "$conf" -M "$dir/cyrus.conf" -p "$dir/master.pid")
}

# The master stays in the foreground (no -d) and writes PID_FILE itself.
start_server() {
    local dir="$1"
    "${SERVER_CMD[@]}" </dev/null >>"$dir/cyrus.out" 2>&1 &
    START_PID=$!
}

# "run": the master loses the --pdeathsig that common.sh gives it as soon as it switches to the
# cyrus user (the kernel clears it on a change of credentials). A guard process keeps it: it gets
# SIGTERM when this script dies, even by SIGKILL, and then sends SIGTERM to the master. It ends
# by itself when the master is gone.
server_launched() {
    local pid="$2"
    # shellcheck disable=SC2016 # expanded by the guard's own bash
    setpriv --pdeathsig TERM -- bash -c '
        trap '\''kill -TERM "$0" 2>/dev/null; kill "$!" 2>/dev/null; exit 0'\'' TERM
        while kill -0 "$0" 2>/dev/null; do sleep 1 & wait "$!"; done
        kill "$!" 2>/dev/null' "$pid" </dev/null >/dev/null 2>&1 &
    GUARD_PID=$!
}

# Create the INBOX of every test account as the admin, in one pipelined IMAP session: Cyrus's
# CalDAV/CardDAV answers 500 for a user without INBOX, and IMAP creates it only at login.
after_ready() {
    local dir="$1" port="$2" admin admin_pass user pass n=0 line failed=() deadline
    read -r admin admin_pass < <(plain_accounts "$ADMIN_ACCOUNTS")
    deadline=$((SECONDS + WAIT_SECS))
    exec 4<>"/dev/tcp/127.0.0.1/$port" || {
        warn "cannot connect to 127.0.0.1:$port to create the INBOXes"
        return 1
    }
    {
        printf 'a LOGIN "%s" "%s"\r\n' "$admin" "$admin_pass"
        while read -r user pass; do
            n=$((n + 1))
            printf 'c%d CREATE "user/%s"\r\n' "$n" "$user"
        done < <(plain_accounts "$ACCOUNTS")
        printf 'z LOGOUT\r\n'
    } >&4
    while ((SECONDS < deadline)) && IFS= read -r -t "$WAIT_SECS" line <&4; do
        line="${line%$'\r'}"
        case "$line" in
        "a OK"*) ;;
        a\ *)
            failed+=("admin login: $line")
            break
            ;;
        c*" OK"* | c*" NO [ALREADYEXISTS]"* | c*" NO Mailbox already exists"*) ;;
        c[0-9]*\ *) failed+=("$line") ;;
        z\ *) break ;;
        esac
    done
    exec 4<&-
    if [[ "$line" != "z OK"* ]] || ((${#failed[@]} > 0)); then
        warn "creating the INBOXes of the test accounts failed (last line: $line)"
        printf '  %s\n' "${failed[@]}" >&2
        return 1
    fi
}

# SIGTERM to the master, which stops its services; then wait (bounded) for every process of this
# instance (all run with "-C DIR/imapd.conf") and SIGKILL stragglers.
stop_server() {
    local dir="$1" pid="$2" pattern deadline
    term_then_kill "$pid" master || true
    pattern="-C $(sed 's/[.+]/\\&/g' <<<"$dir/imapd.conf")"
    deadline=$((SECONDS + WAIT_SECS))
    while pgrep -f -- "$pattern" >/dev/null && ((SECONDS < deadline)); do
        sleep 0.1
    done
    pkill -KILL -f -- "$pattern" 2>/dev/null || true
    if [[ -n "${GUARD_PID:-}" ]]; then
        kill -TERM "$GUARD_PID" 2>/dev/null || true
        wait "$GUARD_PID" 2>/dev/null || true
    fi
}

main "$@"
