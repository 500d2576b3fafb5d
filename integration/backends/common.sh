# shellcheck shell=bash
# Scaffolding shared by the scripts of this folder (dovecot.sh, radicale.sh, cyrus.sh, xandikos.sh),
# which source it; not meant to be run alone.
# It provides the verbs (start, run, stop), argument checks, the bounded waits and the messages.
# The sourcing script sets "set -euo pipefail" itself and supplies what is specific to its server:
#
#   NAME            server name ("dovecot", "radicale"). Messages start with "$NAME.sh: ", and a
#                   pid counts as the instance's only if its command line mentions NAME.
#   PID_FILE        the instance's pid file, relative to DIR
#   LOG_FILES       array of log files, relative to DIR, whose end is printed on failures
#   OUT_FILE        file, relative to DIR, that gets the server's stdout and stderr under "run"
#   READY_DESC      what the readiness probe waits for, for the timeout message ("'* OK'", "HTTP")
#   SERVER_DESC     how "stop" names a pid that survived SIGKILL ("dovecot master", "radicale")
#
#   prepare DIR PORT        check the preconditions and write the instance's files; must call
#                           check_free. Sets SERVER_CMD, the foreground command line for "run".
#   start_server DIR        start the server detached (for "start"). Sets START_PID when the
#                           server is a child of this script; leaves it empty when the server
#                           daemonizes and writes PID_FILE itself.
#   server_launched DIR PID called by "run" right after it started SERVER_CMD as PID
#   server_answers PORT     true once the server answers on 127.0.0.1:PORT
#   stop_server DIR PID     stop the instance whose main process is PID (bounded; see term_then_kill)
#
# Optional (defaults below; a script redefines them after sourcing this file):
#   after_ready DIR PORT    runs once the server answers, before "start" prints the pid and "run"
#                           prints READY (e.g. provisioning accounts); failing it fails the start
#   ready_line PORT         the line "run" prints when ready (default "READY <port>"); harnesses
#                           read the first line starting with "READY"
#
# Environment: AGAP_BACKEND_WAIT_SECS (how long every wait lasts at most, default 10).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
# shellcheck disable=SC2034 # used by the sourcing scripts
readonly REPO_ROOT
readonly WAIT_SECS="${AGAP_BACKEND_WAIT_SECS:-10}"

usage() {
    echo "usage: $0 start DIR PORT | run DIR PORT | stop DIR" >&2
    exit 2
}

warn() {
    echo "$NAME.sh: $*" >&2
}

die() {
    warn "$@"
    exit 1
}

# Print the end of the instance's logs to stderr (used on every failure after launch).
log_tail() {
    local dir="$1" f
    for f in "${LOG_FILES[@]}"; do
        f="$dir/$f"
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

abs_dir() {
    mkdir -p "$1"
    (cd "$1" && pwd -P)
}

require_readable() {
    local f
    for f in "$@"; do
        [[ -r "$f" ]] || die "missing $f"
    done
}

# True if $1 is a live process whose command line mentions NAME (guards against pid reuse).
is_server_pid() {
    [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null && grep -qa "$NAME" "/proc/$1/cmdline" 2>/dev/null
}

after_ready() {
    :
}

ready_line() {
    echo "READY $1"
}

saved_pid() {
    local f="$1/$PID_FILE"
    if [[ -r "$f" ]]; then
        head -n 1 "$f"
    fi
}

# Die if an instance already runs in DIR $1 or if 127.0.0.1:$2 is taken.
check_free() {
    local dir="$1" port="$2" pid
    pid="$(saved_pid "$dir")"
    if is_server_pid "$pid"; then
        die "an instance already runs in $dir (pid $pid)"
    fi
    if port_open "$port"; then
        die "127.0.0.1:$port is already in use"
    fi
}

# Wait (bounded) until the instance answers on $port; on failure print why and the log tail, and
# return 1. $3 is the pid that must stay alive meanwhile (empty: read PID_FILE).
wait_ready() {
    local dir="$1" port="$2" pid="${3:-}" deadline=$((SECONDS + WAIT_SECS)) p
    while ((SECONDS < deadline)); do
        if server_answers "$port"; then
            return 0
        fi
        p="${pid:-$(saved_pid "$dir")}"
        if [[ -n "$p" ]] && ! kill -0 "$p" 2>/dev/null; then
            warn "$NAME (pid $p) exited before answering on 127.0.0.1:$port"
            log_tail "$dir"
            return 1
        fi
        sleep 0.1
    done
    warn "$NAME did not answer $READY_DESC on 127.0.0.1:$port within ${WAIT_SECS}s"
    log_tail "$dir"
    return 1
}

# True if pid $1 exists and is not a zombie: a daemonized server's parent is init, which may be
# slow to reap it (in some containers pid 1 is not a real init).
pid_alive() {
    local stat
    kill -0 "$1" 2>/dev/null || return 1
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ "${stat:0:1}" != Z ]]
}

# SIGTERM pid $1, bounded wait, then SIGKILL; $2 names the pid in the message ("master", "pid").
# Returns 1 at once if $1 cannot be signalled (no such process).
term_then_kill() {
    local pid="$1" what="$2" deadline=$((SECONDS + WAIT_SECS))
    kill -TERM "$pid" 2>/dev/null || return 1
    while pid_alive "$pid" && ((SECONDS < deadline)); do
        sleep 0.1
    done
    if pid_alive "$pid"; then
        warn "$what $pid ignored SIGTERM for ${WAIT_SECS}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

cmd_start() {
    local dir port
    check_port "$2"
    dir="$(abs_dir "$1")"
    port="$2"
    prepare "$dir" "$port"
    START_PID=""
    start_server "$dir"
    if ! wait_ready "$dir" "$port" "$START_PID" || ! after_ready "$dir" "$port"; then
        if [[ -n "$START_PID" ]]; then
            # A child of this script: stop it directly (cmd_stop would take its zombie for alive).
            stop_server "$dir" "$START_PID"
        else
            cmd_stop "$dir"
        fi
        exit 1
    fi
    saved_pid "$dir"
}

cmd_run() {
    local dir port
    check_port "$2"
    dir="$(abs_dir "$1")"
    port="$2"
    prepare "$dir" "$port"
    exec 3<&0 # background jobs get /dev/null as stdin unless told otherwise
    # --pdeathsig: should this script be SIGKILLed, the server still gets SIGTERM.
    setpriv --pdeathsig TERM -- "${SERVER_CMD[@]}" </dev/null >>"$dir/$OUT_FILE" 2>&1 &
    RUN_DIR="$dir"
    RUN_PID=$!
    CAT_PID=""
    server_launched "$dir" "$RUN_PID"
    trap run_cleanup EXIT
    trap 'exit 143' TERM INT HUP
    wait_ready "$dir" "$port" "$RUN_PID" || exit 1
    after_ready "$dir" "$port" || exit 1
    ready_line "$port"
    cat <&3 >/dev/null &
    CAT_PID=$!
    exec 3<&-
    # Return when stdin reaches EOF or when the server exits on its own (e.g. "stop DIR").
    wait -n "$RUN_PID" "$CAT_PID" || true
}

# EXIT trap of "run": whatever ended the wait (EOF, signal, failure), stop the server and reap it.
run_cleanup() {
    [[ -z "$CAT_PID" ]] || kill "$CAT_PID" 2>/dev/null || true
    stop_server "$RUN_DIR" "$RUN_PID"
    wait "$RUN_PID" 2>/dev/null || true
}

cmd_stop() {
    local dir="$1" pid
    [[ -d "$dir" ]] || return 0
    pid="$(saved_pid "$dir")"
    is_server_pid "$pid" || return 0
    stop_server "$dir" "$pid"
    if pid_alive "$pid"; then
        die "$SERVER_DESC $pid is still running"
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
