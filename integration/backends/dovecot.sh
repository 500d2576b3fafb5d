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
# The verbs, checks and bounded waits shared with radicale.sh are in common.sh; this file holds
# what is specific to Dovecot.
#
# As root, Dovecot runs the normal way (privileged master, chrooted login processes) and mail is
# accessed as the unprivileged user $AGAP_DOVECOT_MAIL_USER (default "agapmail", created with
# useradd if missing), because Dovecot refuses mail access as uid 0.
# As a non-root user, every Dovecot process runs as that user (no chroot, no user switch).
#
# Environment: AGAP_DOVECOT_MAIL_USER (root only, default agapmail),
#              AGAP_BACKEND_WAIT_SECS (how long to wait for the port, default 10),
#              AGAP_LMTP_PORT (an LMTP listener on 127.0.0.1, RFC 2033: the FSTO delivery path),
#              AGAP_DOVECOT_TLS_CERT and AGAP_DOVECOT_TLS_KEY (PEM files: TLS on, STARTTLS offered
#              on PORT), AGAP_DOVECOT_IMAPS_PORT (with them: an IMAPS listener on that port).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# What common.sh needs (described there).
readonly NAME=dovecot
readonly PID_FILE=run/master.pid
readonly LOG_FILES=(dovecot.log dovecot.out)
readonly OUT_FILE=dovecot.out
readonly READY_DESC="'* OK'"
readonly SERVER_DESC="dovecot master"
readonly SHARED_CONF="$REPO_ROOT/config/dovecot/agap.conf"
readonly ACCOUNTS="$REPO_ROOT/config/accounts/users.passwd"
readonly MASTER_ACCOUNTS="$REPO_ROOT/config/accounts/master-users.passwd"
readonly MAIL_USER="${AGAP_DOVECOT_MAIL_USER:-agapmail}"
# Longest socket Dovecot creates below base_dir ("token-login/imap-urlauth") plus "/run/" must fit
# in sun_path (107 bytes + NUL).
readonly MAX_DIR_LEN=76

# True if 127.0.0.1:$1 answers with an IMAP "* OK" greeting.
server_answers() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        IFS= read -r -t 2 line <&3 || exit 1
        printf 'a LOGOUT\r\n' >&3 || true
        [[ "$line" == "* OK"* ]]
    ) 2>/dev/null
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

# Write DIR/dovecot.conf and the directories it names. Sets CONF and SERVER_CMD.
prepare() {
    local dir="$1" port="$2"
    require_readable "$SHARED_CONF" "$ACCOUNTS" "$MASTER_ACCOUNTS"
    # Dovecot splits passdb/userdb args at spaces and expands %-variables in paths.
    [[ "$dir" =~ ^[A-Za-z0-9._/+-]+$ ]] ||
        die "DIR may contain only letters, digits and . _ / + - (Dovecot config paths): $dir"
    ((${#dir} <= MAX_DIR_LEN)) ||
        die "DIR is ${#dir} characters long; Dovecot's unix sockets below it would exceed the 107-byte limit (keep DIR <= $MAX_DIR_LEN characters)"
    check_free "$dir" "$port"

    mkdir -p "$dir/mail" "$dir/state"
    rm -rf "$dir/run"
    # The accounts are copied into DIR so that the auth process (user "dovecot" when started as
    # root) can read them wherever the repository lives.
    install -m 0644 "$ACCOUNTS" "$dir/users.passwd"
    install -m 0644 "$MASTER_ACCOUNTS" "$dir/master-users.passwd"
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

    # TLS for the tests of the gateway's upstream TLS: copied into DIR like the accounts.
    local tls="" imaps_port=0
    if [[ -n "${AGAP_DOVECOT_TLS_CERT:-}" || -n "${AGAP_DOVECOT_TLS_KEY:-}" ]]; then
        require_readable "${AGAP_DOVECOT_TLS_CERT:?needs AGAP_DOVECOT_TLS_KEY too}" "${AGAP_DOVECOT_TLS_KEY:?needs AGAP_DOVECOT_TLS_CERT too}"
        install -m 0644 "$AGAP_DOVECOT_TLS_CERT" "$dir/tls-cert.pem"
        install -m 0600 "$AGAP_DOVECOT_TLS_KEY" "$dir/tls-key.pem"
        imaps_port="${AGAP_DOVECOT_IMAPS_PORT:-0}"
        tls="# TLS (AGAP_DOVECOT_TLS_*): STARTTLS on $port, IMAPS on $imaps_port (0: none).
ssl = yes
ssl_cert = <$dir/tls-cert.pem
ssl_key = <$dir/tls-key.pem"
    fi

    # LMTP on loopback only when asked for (the shared test server; the gateway's FSTO).
    local lmtp=""
    if [[ -n "${AGAP_LMTP_PORT:-}" ]]; then
        check_port "$AGAP_LMTP_PORT"
        lmtp="protocols = \$protocols lmtp
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $AGAP_LMTP_PORT
  }
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
# Master users (config/accounts/master-users.passwd) log in as any existing account with SASL
# PLAIN, the account being the authorization identity; only such logins consult this passdb.
# pass = yes: the account must exist in the passdb above.
passdb {
  driver = passwd-file
  master = yes
  pass = yes
  args = scheme=PLAIN $dir/master-users.passwd
}
# ACLs as the account, not as the master user (who owns no mailbox).
plugin {
  acl_user = %u
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
    address = 127.0.0.1
    port = $imaps_port
  }
}

$tls

$lmtp

$identity
EOF
    chmod 0644 "$CONF"
    doveconf -c "$CONF" -n >/dev/null 2>>"$dir/dovecot.out" || {
        log_tail "$dir"
        die "invalid configuration $CONF"
    }
    SERVER_CMD=(dovecot -F -c "$CONF")
}

# Without -F the master daemonizes once its listeners are bound (and writes PID_FILE); its stdio
# must not keep the caller's pipes open.
start_server() {
    local dir="$1"
    if ! dovecot -c "$CONF" </dev/null >>"$dir/dovecot.out" 2>&1; then
        log_tail "$dir"
        die "dovecot failed to start"
    fi
}

# The master writes PID_FILE itself.
server_launched() {
    :
}

# The master's imap children get their SIGTERM first: left to themselves, imap processes with a
# logged-in client outlive a stopped master by about 10 s (Dovecot 2.3.19), keeping the instance
# half alive.
stop_server() {
    local dir="$1" pid="$2" name deadline
    pkill -TERM -P "$pid" -x imap 2>/dev/null || true
    term_then_kill "$pid" master || return 0
    # Children (log, anvil, auth, imap...) follow the master within a moment.
    name="$(sed -n 's/^instance_name = //p' "$dir/dovecot.conf" 2>/dev/null || true)"
    if [[ -n "$name" ]]; then
        deadline=$((SECONDS + WAIT_SECS))
        while pgrep -f "^dovecot-$name/" >/dev/null && ((SECONDS < deadline)); do
            sleep 0.1
        done
    fi
}

main "$@"
