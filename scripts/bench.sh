#!/usr/bin/env bash
# Run the benchmarks against a SeaweedFS that this script starts (and stops) on 127.0.0.1.
#
#   bash scripts/bench.sh [store_bench.py options...]     e.g. --size-mib 64 --repeat 3
#
# Set SEAWEEDFS_S3_PORT to use another port than 8333.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
setup_venv dev

STATE=$(mktemp -d /tmp/storage-hub-bench.XXXXXX)
trap 'bash scripts/seaweedfs.sh stop "$STATE" >/dev/null 2>&1 || true; rm -rf "$STATE"' EXIT
bash scripts/seaweedfs.sh start "$STATE"
# shellcheck disable=SC1091
. "$STATE/env"
python benchmarks/store_bench.py "$@"
