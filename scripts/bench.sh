#!/usr/bin/env bash
# Run a benchmark against a SeaweedFS that this script starts (and stops) on 127.0.0.1.
#
#   bash scripts/bench.sh [store|contents|data] [benchmark options...]
#
#   store     benchmarks/store_bench.py: listing, 256 MiB write and read, beside raw s3fs and boto3 (default)
#   contents  benchmarks/contents_bench.py: the Jupyter REST API beside s3contents, jupyter-fs and local disk
#             (installs the two anchors in their own venvs under .state/bench-venvs/ on first use)
#   data      benchmarks/data_bench.py: write_data / read_data of 512 MiB and a pandas Parquet read, beside
#             boto3, its TransferManager, s3fs and obstore (obstore is pip-installed into .venv on first use);
#             SeaweedFS keeps overwritten data until it vacuums, so this needs about 16 GiB free under /tmp
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
case "${1:-store}" in
    store | contents | data) name=${1:-store}; shift || true ;;
    *) name=store ;;
esac
if [[ $name == data ]] && ! python -c "import obstore" 2>/dev/null; then
    python -m pip install --quiet "obstore>=0.12" >>.state/pip.log 2>&1 || { cat .state/pip.log; exit 1; }
fi
python "benchmarks/${name}_bench.py" "$@"
