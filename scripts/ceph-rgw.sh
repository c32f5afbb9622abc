#!/usr/bin/env bash
# Start or stop a throw-away single-host Ceph cluster (one mon, one bluestore OSD on a
# sparse file, no mgr, auth none) with a radosgw S3 endpoint on 127.0.0.1, for the test
# suite and CI. Everything (config, data, sockets, pid files, logs) lives in STATE_DIR.
#
#   scripts/ceph-rgw.sh start STATE_DIR   # installs radosgw ceph-mon ceph-osd if needed
#   scripts/ceph-rgw.sh stop  STATE_DIR   # idempotent; leaves no process behind
#
# After `start`, STATE_DIR/env holds:
#   export STORAGE_HUB_TEST_CEPH=http://127.0.0.1:7480
#   export STORAGE_HUB_TEST_CEPH_KEY=...
#   export STORAGE_HUB_TEST_CEPH_SECRET=...
#
# Environment:
#   CEPH_RGW_PORT       S3 port (default 7480). The mon always uses 3300 and 6789 and the
#                       OSD ports in 6800-7300, so one cluster per machine.
#   CEPH_START_TIMEOUT  seconds to wait for each stage of the start (default 180)
#   PYTHON              python with boto3 for the readiness check (default: $VIRTUAL_ENV,
#                       then the repository's .venv, then python3; curl if none has boto3)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT_NAME=ceph-rgw.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$SCRIPT_DIR/lib.sh"
RGW_PORT=${CEPH_RGW_PORT:-7480}
START_TIMEOUT=${CEPH_START_TIMEOUT:-180}
STOP_TIMEOUT=15
MON_ID=a
OSD_SIZE=$((10 * 1024 * 1024 * 1024)) # apparent size of the sparse bluestore file
RGW_UID=storage-hub-test
PACKAGES=(radosgw ceph-mon ceph-osd)
# The order matters for stop: radosgw first, then the OSD, then the mon.
DAEMONS=(radosgw osd mon)

new_uuid() {
    cat /proc/sys/kernel/random/uuid
}

# ---------------------------------------------------------------- installation

have_binaries() {
    local cmd
    for cmd in radosgw radosgw-admin ceph-mon ceph-osd monmaptool ceph; do
        command -v "$cmd" >/dev/null 2>&1 || return 1
    done
}

install_packages() {
    local status
    status=$(dpkg-query -W -f='${Status}' radosgw 2>/dev/null) || status=
    if [[ "$status" == "install ok installed" ]] && have_binaries; then
        return 0
    fi
    apt_install "$STATE_DIR/log/apt.log" "${PACKAGES[@]}"
    have_binaries || die "radosgw, ceph-mon, ceph-osd or ceph is still missing after apt-get install"
}

# ---------------------------------------------------------------- processes

pid_file() {
    echo "$STATE_DIR/run/$1.pid"
}

# Prints the pid of daemon $1 if it is still our process, else nothing.
# Guard against a recycled pid: it must be a daemon started with our ceph.conf.
running_pid() {
    pid_from_file "$(pid_file "$1")" "-c $CONF"
}

stop_daemon() {
    local name=$1 pid
    pid=$(running_pid "$name")
    if [[ -n "$pid" ]]; then
        stop_pid "$name" "$pid" "$STOP_TIMEOUT"
    fi
    rm -f "$(pid_file "$name")"
}

do_stop() {
    local name
    for name in "${DAEMONS[@]}"; do
        stop_daemon "$name"
    done
    rm -f "$ENV_FILE" "$STATE_DIR"/run/*.asok "$STATE_DIR"/run/*.daemon.pid
}

# Starts a daemon in the foreground (-f) in the background of this script, so that $!
# is the daemon itself; its stdout/stderr go to log/NAME.out.
start_daemon() {
    local name=$1
    shift
    "$@" </dev/null >"$STATE_DIR/log/$name.out" 2>&1 &
    echo "$!" >"$(pid_file "$name")"
}

fail_start() {
    local f
    log "$*"
    for f in "$STATE_DIR"/log/*.out "$STATE_DIR"/log/ceph-mon.*.log "$STATE_DIR"/log/ceph-osd.*.log \
        "$STATE_DIR"/log/ceph-client.rgw.*.log; do
        [[ -s "$f" ]] || continue
        log "last lines of $f:"
        tail -n 15 "$f" >&2 || true
    done
    do_stop
    die "Ceph RGW failed to start"
}

check_alive() {
    local name
    for name in "$@"; do
        [[ -n "$(running_pid "$name")" ]] || fail_start "ceph $name exited during startup"
    done
}

# Ceph CLI with a bounded run time (it retries forever when the mon is unreachable).
ceph_cli() {
    timeout 30 ceph -c "$CONF" --connect-timeout 20 "$@"
}

# Waits until "$@" succeeds, checking that the daemons in $ALIVE are still running.
wait_for() {
    local what=$1 deadline
    shift
    deadline=$((SECONDS + START_TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        # shellcheck disable=SC2086 # ALIVE is a list of daemon names
        check_alive $ALIVE
        ((SECONDS < deadline)) || fail_start "timed out after ${START_TIMEOUT}s waiting for $what"
        sleep 0.5
    done
}

osd_is_up() {
    local dump
    dump=$(ceph_cli osd dump) || return 1
    grep -q '^osd\.0 up  *in ' <<<"$dump"
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ---------------------------------------------------------------- S3 readiness

find_python() {
    local py
    for py in "${PYTHON:-}" "${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}" "$SCRIPT_DIR/../.venv/bin/python" python3; do
        [[ -n "$py" ]] || continue
        if "$py" -c 'import boto3' >/dev/null 2>&1; then
            echo "$py"
            return 0
        fi
    done
}

# An authenticated ListBuckets, bucket create, object put/delete and bucket delete
# with our keys succeed.
s3_ready() {
    local bucket
    bucket="ready-$(random_hex 6)"
    if [[ -n "$PY" ]]; then
        S3_KEY=$KEY S3_SECRET=$SECRET S3_BUCKET=$bucket S3_ENDPOINT="http://127.0.0.1:$RGW_PORT" \
            timeout 30 "$PY" - <<'EOF'
import os
import boto3
from botocore.config import Config

s3 = boto3.client(
    "s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1",
    aws_access_key_id=os.environ["S3_KEY"], aws_secret_access_key=os.environ["S3_SECRET"],
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                  connect_timeout=5, read_timeout=20),
)
bucket = os.environ["S3_BUCKET"]
s3.list_buckets()
s3.create_bucket(Bucket=bucket)
# The first object and the first multipart upload each create a pool: do it now, so
# that the tests don't pay for it.
s3.put_object(Bucket=bucket, Key="k", Body=b"x")
s3.delete_object(Bucket=bucket, Key="k")
upload = s3.create_multipart_upload(Bucket=bucket, Key="m")
s3.abort_multipart_upload(Bucket=bucket, Key="m", UploadId=upload["UploadId"])
s3.delete_bucket(Bucket=bucket)
EOF
    else
        # curl (7.88) does not send x-amz-content-sha256 by itself, and RGW rejects a
        # SigV4 request without it as SignatureDoesNotMatch.
        local url="http://127.0.0.1:$RGW_PORT" code
        local sig=(--aws-sigv4 "aws:amz:us-east-1:s3" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --user "$KEY:$SECRET" --max-time 20 -s -o /dev/null -w '%{http_code}')
        code=$(curl "${sig[@]}" "$url/") && [[ "$code" == 200 ]] || return 1
        code=$(curl "${sig[@]}" -X PUT "$url/$bucket") && [[ "$code" == 200 ]] || return 1
        code=$(curl "${sig[@]}" -X PUT --data-binary x "$url/$bucket/k") && [[ "$code" == 200 ]] || return 1
        code=$(curl "${sig[@]}" -X DELETE "$url/$bucket/k") && [[ "$code" == 204 ]] || return 1
        code=$(curl "${sig[@]}" -X DELETE "$url/$bucket") && [[ "$code" == 204 ]] || return 1
    fi
}

# ---------------------------------------------------------------- start

write_conf() {
    local fsid=$1
    cat >"$CONF" <<EOF
# Generated by ceph-rgw.sh: a throw-away single-host test cluster.
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
mon initial members = $MON_ID
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
# Without this radosgw hangs 300 s on "failed to fetch mon config".
ms mon client mode = crc secure
keyring = $STATE_DIR/keyring
run dir = $STATE_DIR/run
admin socket = $STATE_DIR/run/\$cluster-\$name.asok
pid file = $STATE_DIR/run/\$cluster-\$name.daemon.pid
log file = $STATE_DIR/log/\$cluster-\$name.log
mon cluster log file = $STATE_DIR/log/\$cluster.log
crash dir = $STATE_DIR/crash
log to syslog = false
err to syslog = false
mon data = $STATE_DIR/mon/\$cluster-\$id
osd data = $STATE_DIR/osd/\$cluster-\$id
rgw data = $STATE_DIR/rgw/\$cluster-\$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = $OSD_SIZE
osd memory target = 1073741824
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
# Commit mon map changes every 0.1 s instead of 1 s: each pool that radosgw creates
# then takes about 0.2 s instead of 2 s (cold start 9 s instead of 24 s).
paxos propose interval = 0.1

[client.rgw.gw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
EOF
}

do_start() {
    local name port fsid osd_uuid osd_id t0=$SECONDS
    for name in "${DAEMONS[@]}"; do
        [[ -z "$(running_pid "$name")" ]] || die "already running ($name); run: $0 stop $STATE_DIR"
    done
    for port in 3300 6789 "$RGW_PORT"; do
        if port_in_use "$port"; then
            die "port $port on 127.0.0.1 is already in use (another Ceph cluster or radosgw running?)"
        fi
    done
    mkdir -p "$STATE_DIR/log"
    install_packages
    command -v timeout >/dev/null 2>&1 || die "timeout (coreutils) is required"

    PY=$(find_python)
    if [[ -z "$PY" ]] && ! command -v curl >/dev/null 2>&1; then
        die "need a python with boto3 (set PYTHON or VIRTUAL_ENV) or curl for the readiness check"
    fi

    # A fresh cluster every time: wipe what a previous start left behind.
    rm -rf "$STATE_DIR/mon" "$STATE_DIR/osd" "$STATE_DIR/rgw" "$STATE_DIR/run" "$STATE_DIR/crash" \
        "$STATE_DIR/monmap" "$STATE_DIR/keyring" "$ENV_FILE"
    mkdir -p "$STATE_DIR/mon/ceph-$MON_ID" "$STATE_DIR/osd" "$STATE_DIR/rgw/ceph-rgw.gw" \
        "$STATE_DIR/run" "$STATE_DIR/crash"
    : >"$STATE_DIR/keyring"
    export CEPH_CONF="$CONF" # in case some tool ignores -c

    fsid=$(new_uuid)
    write_conf "$fsid"
    log "creating a single-host cluster in $STATE_DIR"

    # mon
    monmaptool --create --fsid "$fsid" --addv "$MON_ID" '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' \
        "$STATE_DIR/monmap" >"$STATE_DIR/log/mkfs.log" 2>&1 ||
        { cat "$STATE_DIR/log/mkfs.log" >&2; die "monmaptool failed"; }
    ceph-mon -c "$CONF" --mkfs -i "$MON_ID" --monmap "$STATE_DIR/monmap" >>"$STATE_DIR/log/mkfs.log" 2>&1 ||
        { tail -n 20 "$STATE_DIR/log/mkfs.log" >&2; die "ceph-mon --mkfs failed"; }
    start_daemon mon ceph-mon -c "$CONF" -f -i "$MON_ID"
    ALIVE="mon"
    wait_for "the mon" ceph_cli mon stat
    log "mon up after $((SECONDS - t0))s"

    # osd (bluestore on a sparse file created by mkfs)
    osd_uuid=$(new_uuid)
    osd_id=$(ceph_cli osd new "$osd_uuid") || fail_start "ceph osd new failed"
    [[ "$osd_id" == 0 ]] || fail_start "unexpected OSD id '$osd_id'"
    mkdir -p "$STATE_DIR/osd/ceph-0"
    ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$STATE_DIR/log/mkfs.log" 2>&1 ||
        fail_start "ceph-osd --mkfs failed (see $STATE_DIR/log/mkfs.log)"
    start_daemon osd ceph-osd -c "$CONF" -f -i 0
    ALIVE="mon osd"
    wait_for "the OSD to be up" osd_is_up
    log "osd up after $((SECONDS - t0))s"

    # S3 user, then radosgw
    KEY=$(random_hex 10 | tr 'a-f' 'A-F')
    SECRET=$(random_hex 20)
    timeout 120 radosgw-admin -c "$CONF" user create --uid="$RGW_UID" --display-name="storage-hub tests" \
        --access-key="$KEY" --secret-key="$SECRET" >"$STATE_DIR/log/user-create.log" 2>&1 ||
        fail_start "radosgw-admin user create failed: $(tail -n 5 "$STATE_DIR/log/user-create.log")"
    log "S3 user created after $((SECONDS - t0))s"
    start_daemon radosgw radosgw -c "$CONF" -f -n client.rgw.gw
    ALIVE="mon osd radosgw"
    wait_for "an authenticated S3 request to succeed on 127.0.0.1:$RGW_PORT" s3_ready

    write_env CEPH "$RGW_PORT" "$KEY" "$SECRET"
    log "ready after $((SECONDS - t0))s; source $ENV_FILE"
}

# Paths under STATE_DIR, for dispatch.
init_state() {
    CONF="$STATE_DIR/ceph.conf"
    mkdir -p "$STATE_DIR/run"
}

dispatch "$@"
