#!/usr/bin/env bash
# Start/stop a private Dovecot 2.3 IMAP server on 127.0.0.1 for tests and the local demo.
#
#   dovecot.sh start DIR PORT   start in the background; prints the master pid once IMAP answers
#   dovecot.sh run DIR PORT     stay in the foreground; prints "READY <port>" once IMAP answers,
#                               then stops Dovecot when stdin reaches EOF (or on SIGTERM/SIGINT)
#   dovecot.sh stop DIR         stop the instance living in DIR (no-op if none)
#
# Everything of the instance lives in DIR (config, base_dir, state_dir, log, mail), so it never
# touches /etc/dovecot or /run/dovecot and several instances can run at once on different ports.
# The settings shared with docker-compose are in config/dovecot/agap.conf, the accounts in
# config/accounts/users.passwd. See integration/backends/README.md for the reasons behind them.
#
# As root, Dovecot runs the normal way (privileged master, chrooted login processes) and mail is
# accessed as the unprivileged user $AGAP_DOVECOT_MAIL_USER (default "agapmail", created with
# useradd if missing), because Dovecot refuses mail access as uid 0.
# As a non-root user, every Dovecot process runs as that user (no chroot, no user switch).
#
# Environment: AGAP_DOVECOT_MAIL_USER (root only, default agapmail),
#              AGAP_BACKEND_WAIT_SECS (how long to wait for the port, default 10).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
readonly REPO_ROOT
readonly SHARED_CONF="$REPO_ROOT/config/dovecot/agap.conf"
readonly ACCOUNTS="$REPO_ROOT/config/accounts/users.passwd"
readonly WAIT_SECS="${AGAP_BACKEND_WAIT_SECS:-10}"
readonly MAIL_USER="${AGAP_DOVECOT_MAIL_USER:-agapmail}"
# Longest socket Dovecot creates below base_dir ("token-login/imap-urlauth") plus "/run/" must fit
# in sun_path (107 bytes + NUL).
readonly MAX_DIR_LEN=76

usage() {
    echo "usage: $0 start DIR PORT | run DIR PORT | stop DIR" >&2
    exit 2
}

die() {
    echo "dovecot.sh: $*" >&2
    exit 1
}

# Print the end of the instance's logs to stderr (used on every failure after launch).
log_tail() {
    local dir="$1" f
    for f in "$dir/dovecot.log" "$dir/dovecot.out"; do
        if [[ -s "$f" ]]; then
            echo "--- last lines of $f ---" >&2
            tail -n 30 "$f" >&2 || true
        fi
    done
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

# True if 127.0.0.1:$1 answers with an IMAP "* OK" greeting.
imap_greets() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        IFS= read -r -t 2 line <&3 || exit 1
        printf 'a LOGOUT\r\n' >&3 || true
        [[ "$line" == "* OK"* ]]
    ) 2>/dev/null
}

# True if $1 is a live process whose command line mentions dovecot (guards against pid reuse).
is_dovecot_pid() {
    [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null && grep -qa dovecot "/proc/$1/cmdline" 2>/dev/null
}

master_pid() {
    local f="$1/run/master.pid"
    if [[ -r "$f" ]]; then
        head -n 1 "$f"
    fi
}

# Wait (bounded) until the instance answers on $port; on failure print why and the log tail, and
# return 1. $3 is the pid that must stay alive meanwhile (empty: read the master pid file).
wait_ready() {
    local dir="$1" port="$2" pid="${3:-}" deadline=$((SECONDS + WAIT_SECS)) p
    while ((SECONDS < deadline)); do
        if imap_greets "$port"; then
            return 0
        fi
        p="${pid:-$(master_pid "$dir")}"
        if [[ -n "$p" ]] && ! kill -0 "$p" 2>/dev/null; then
            echo "dovecot.sh: dovecot (pid $p) exited before answering on 127.0.0.1:$port" >&2
            log_tail "$dir"
            return 1
        fi
        sleep 0.1
    done
    echo "dovecot.sh: dovecot did not answer '* OK' on 127.0.0.1:$port within ${WAIT_SECS}s" >&2
    log_tail "$dir"
    return 1
}

# Stop a master pid: SIGTERM, bounded wait, then SIGKILL. The master's imap children get their
# SIGTERM first: left to themselves, imap processes with a logged-in client outlive a stopped
# master by about 10 s (Dovecot 2.3.19), keeping the instance half alive.
stop_master() {
    local dir="$1" pid="$2" deadline=$((SECONDS + WAIT_SECS))
    pkill -TERM -P "$pid" -x imap 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "dovecot.sh: master $pid ignored SIGTERM for ${WAIT_SECS}s, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    # Children (log, anvil, auth, imap...) follow the master within a moment.
    local name
    name="$(sed -n 's/^instance_name = //p' "$dir/dovecot.conf" 2>/dev/null || true)"
    if [[ -n "$name" ]]; then
        deadline=$((SECONDS + WAIT_SECS))
        while pgrep -f "^dovecot-$name/" >/dev/null && ((SECONDS < deadline)); do
            sleep 0.1
        done
    fi
}

# Create the unprivileged mail user if it is missing (serialised: instances may start in parallel).
ensure_mail_user() {
    getent passwd "$MAIL_USER" >/dev/null && return 0
    command -v useradd >/dev/null || die "mail user '$MAIL_USER' is missing and useradd is not available"
    (
        flock -w 30 9 || exit 1
        getent passwd "$MAIL_USER" >/dev/null ||
            useradd --system --user-group --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin --comment "AGAP test mail user" "$MAIL_USER"
    ) 9>/run/lock/agap-useradd.lock || die "could not create mail user '$MAIL_USER'"
}

# Write DIR/dovecot.conf and the directories it names. Sets CONF.
prepare() {
    local dir="$1" port="$2"
    [[ -r "$SHARED_CONF" ]] || die "missing $SHARED_CONF"
    [[ -r "$ACCOUNTS" ]] || die "missing $ACCOUNTS"
    # Dovecot splits passdb/userdb args at spaces and expands %-variables in paths.
    [[ "$dir" =~ ^[A-Za-z0-9._/+-]+$ ]] ||
        die "DIR may contain only letters, digits and . _ / + - (Dovecot config paths): $dir"
    ((${#dir} <= MAX_DIR_LEN)) ||
        die "DIR is ${#dir} characters long; Dovecot's unix sockets below it would exceed the 107-byte limit (keep DIR <= $MAX_DIR_LEN characters)"
    local pid
    if pid="$(master_pid "$dir")" && is_dovecot_pid "$pid"; then
        die "an instance already runs in $dir (pid $pid)"
    fi
    port_open "$port" && die "127.0.0.1:$port is already in use"

    mkdir -p "$dir/mail" "$dir/state"
    rm -rf "$dir/run"
    # The accounts are copied into DIR so that the auth process (user "dovecot" when started as
    # root) can read them wherever the repository lives.
    install -m 0644 "$ACCOUNTS" "$dir/users.passwd"
    : >"$dir/dovecot.out"

    local identity
    if (($(id -u) == 0)); then
        ensure_mail_user
        local uid gid
        uid="$(id -u "$MAIL_USER")"
        gid="$(id -g "$MAIL_USER")"
        # The mail user and the "dovecot" auth user must reach DIR (a tempdir is often 0700).
        chmod 0755 "$dir"
        chown "$MAIL_USER:" "$dir/mail"
        setpriv --reuid="$uid" --regid="$gid" --clear-groups test -w "$dir/mail" -a -x "$dir/mail" ||
            die "user $MAIL_USER cannot write $dir/mail: a parent directory of $dir is not searchable by others (chmod o+x it or choose another DIR)"
        identity="# Started as root: normal privilege separation, mail accessed as $MAIL_USER
# (Dovecot refuses mail access as uid 0).
mail_uid = $MAIL_USER
mail_gid = $MAIL_USER
first_valid_uid = $uid
last_valid_uid = $uid"
    else
        local user group uid
        user="$(id -un)" || die "the current uid has no user name; Dovecot needs one"
        group="$(id -gn)"
        uid="$(id -u)"
        identity="# Started as $user (not root): every process runs as $user, no chroot.
default_internal_user = $user
default_internal_group = $group
default_login_user = $user
first_valid_uid = $uid
last_valid_uid = $uid
service anvil {
  chroot =
}
service ipc {
  chroot =
}
service imap-login {
  chroot =
}
service imap-urlauth-login {
  chroot =
}"
    fi

    CONF="$dir/dovecot.conf"
    cat >"$CONF" <<EOF
# Generated by integration/backends/dovecot.sh -- do not edit, it is rewritten on every start.
!include $SHARED_CONF

instance_name = agap-$port
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
listen = 127.0.0.1
mail_home = $dir/mail/%u

passdb {
  driver = passwd-file
  args = scheme=PLAIN $dir/users.passwd
}
userdb {
  driver = passwd-file
  args = $dir/users.passwd
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}

$identity
EOF
    chmod 0644 "$CONF"
    doveconf -c "$CONF" -n >/dev/null 2>>"$dir/dovecot.out" || {
        log_tail "$dir"
        die "invalid configuration $CONF"
    }
}

abs_dir() {
    mkdir -p "$1"
    (cd "$1" && pwd -P)
}

cmd_start() {
    local dir port
    check_port "$2"
    dir="$(abs_dir "$1")"
    port="$2"
    prepare "$dir" "$port"
    # Without -F the master daemonizes once its listeners are bound; its stdio must not keep the
    # caller's pipes open.
    if ! dovecot -c "$CONF" </dev/null >>"$dir/dovecot.out" 2>&1; then
        log_tail "$dir"
        die "dovecot failed to start"
    fi
    if ! wait_ready "$dir" "$port" ""; then
        cmd_stop "$dir"
        exit 1
    fi
    master_pid "$dir"
}

cmd_run() {
    local dir port
    check_port "$2"
    dir="$(abs_dir "$1")"
    port="$2"
    prepare "$dir" "$port"
    exec 3<&0 # background jobs get /dev/null as stdin unless told otherwise
    # --pdeathsig: should this script be SIGKILLed, the master still gets SIGTERM.
    setpriv --pdeathsig TERM -- dovecot -F -c "$CONF" </dev/null >>"$dir/dovecot.out" 2>&1 &
    RUN_DIR="$dir"
    RUN_PID=$!
    CAT_PID=""
    trap run_cleanup EXIT
    trap 'exit 143' TERM INT HUP
    wait_ready "$dir" "$port" "$RUN_PID" || exit 1
    echo "READY $port"
    cat <&3 >/dev/null &
    CAT_PID=$!
    exec 3<&-
    # Return when stdin reaches EOF or when Dovecot exits on its own (e.g. "stop DIR").
    wait -n "$RUN_PID" "$CAT_PID" || true
}

# EXIT trap of "run": whatever ended the wait (EOF, signal, failure), stop Dovecot and reap it.
run_cleanup() {
    [[ -z "$CAT_PID" ]] || kill "$CAT_PID" 2>/dev/null || true
    stop_master "$RUN_DIR" "$RUN_PID"
    wait "$RUN_PID" 2>/dev/null || true
}

cmd_stop() {
    local dir="$1" pid
    [[ -d "$dir" ]] || return 0
    pid="$(master_pid "$dir")"
    is_dovecot_pid "$pid" || return 0
    stop_master "$dir" "$pid"
    if kill -0 "$pid" 2>/dev/null; then
        die "dovecot master $pid is still running"
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
