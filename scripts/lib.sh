# Helpers shared by the scripts in this folder. Source it; it only defines functions.
#
#   SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
#   # shellcheck source-path=SCRIPTDIR source=lib.sh
#   . "$SCRIPT_DIR/lib.sh"
#
# die and log prefix their messages with $SCRIPT_NAME, which the sourcing script sets.
# shellcheck shell=bash

die() {
    echo "$SCRIPT_NAME: error: $*" >&2
    exit 1
}

log() {
    echo "$SCRIPT_NAME: $*" >&2
}

usage() {
    echo "usage: $0 start|stop STATE_DIR" >&2
    exit 2
}

# 2*N lowercase hex characters from N bytes of /dev/urandom.
random_hex() {
    od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# apt_install LOG PACKAGE...: installs the Debian packages with apt-get (through sudo when not root), after an
# `apt-get update`; apt's output goes to LOG and its tail is shown if it fails.
apt_install() {
    local log=$1 sudo=()
    shift
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "$* not installed and this is not root (no sudo)"
        sudo=(sudo)
    fi
    log "installing $* with apt-get"
    mkdir -p "$(dirname "$log")"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; die "apt-get update failed"; }
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >>"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; die "apt-get install $* failed"; }
}

# ---------------------------------------------------------------- server scripts (start|stop STATE_DIR)

# `dispatch "$@"` runs a server script: checks the arguments (`start|stop STATE_DIR`, else usage
# and exit 2), sets STATE_DIR (made absolute, created if missing) and ENV_FILE (STATE_DIR/env),
# calls the script's init_state (its own paths under STATE_DIR), then its do_start or do_stop.
# A stop on a STATE_DIR that does not exist only says so: stop is idempotent.
dispatch() {
    [[ $# -eq 2 && -n "$2" ]] || usage
    local action=$1
    [[ "$action" == start || "$action" == stop ]] || usage
    if [[ "$action" == stop && ! -d "$2" ]]; then
        log "not running ($2 does not exist)"
        exit 0
    fi
    mkdir -p "$2"
    STATE_DIR=$(cd "$2" && pwd)
    ENV_FILE="$STATE_DIR/env"
    init_state
    if [[ "$action" == start ]]; then
        do_start
    else
        do_stop
    fi
}

# pid_from_file PID_FILE ARGS: prints the pid recorded in PID_FILE if that process is still
# running and its command line contains ARGS (whole words), else nothing. ARGS guards against
# a recycled pid.
pid_from_file() {
    local file=$1 args=$2 pid cmdline
    [[ -f "$file" ]] || return 0
    pid=$(<"$file")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    [[ -r "/proc/$pid/cmdline" ]] || return 0
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
    if [[ " $cmdline " == *" $args "* ]]; then
        echo "$pid"
    fi
}

# wait_gone PID TENTHS: waits up to TENTHS tenths of a second for PID to exit; fails if it
# is still alive then.
wait_gone() {
    local pid=$1 tenths=$2 i
    for ((i = 0; i < tenths; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$pid" 2>/dev/null
}

# stop_pid NAME PID TIMEOUT: SIGTERM, up to TIMEOUT seconds for PID to exit, then SIGKILL
# and up to 10 more seconds; dies if it is still alive. NAME is for the messages.
stop_pid() {
    local name=$1 pid=$2 timeout=$3
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if wait_gone "$pid" $((timeout * 10)); then
        return 0
    fi
    log "$name did not stop within ${timeout}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 100 || die "$name (pid $pid) is still alive after SIGKILL"
}

# write_env NAME PORT KEY SECRET: writes $ENV_FILE (mode 600, atomically) with
#   export STORAGE_HUB_TEST_NAME=http://127.0.0.1:PORT
#   export STORAGE_HUB_TEST_NAME_KEY=KEY
#   export STORAGE_HUB_TEST_NAME_SECRET=SECRET
write_env() {
    local name=$1 port=$2 key=$3 secret=$4
    (
        umask 077
        cat >"$ENV_FILE.tmp" <<EOF
export STORAGE_HUB_TEST_$name=http://127.0.0.1:$port
export STORAGE_HUB_TEST_${name}_KEY=$key
export STORAGE_HUB_TEST_${name}_SECRET=$secret
EOF
    )
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------- entry scripts (run from the repository)

# setup_venv EXTRA: in the current folder (the repository), creates .venv with $PYTHON (default
# python3) if missing, activates it and installs the project with the extra EXTRA; pip's output
# goes to .state/pip.log and is shown if it fails.
setup_venv() {
    local python=${PYTHON:-python3}
    [[ -x .venv/bin/python ]] || "$python" -m venv .venv
    # shellcheck disable=SC1091
    . .venv/bin/activate
    mkdir -p .state
    python -m pip install --quiet -e ".[$1]" >.state/pip.log 2>&1 || { cat .state/pip.log; exit 1; }
}
