# A Jupyter server configuration that keeps notebooks, files, folders and checkpoints in a storage-hub store.
#
# Put it where Jupyter looks (`jupyter --paths`, "config"), or pass it explicitly:
#
#     jupyter lab --config=examples/jupyter_server_config.py
#
# `storage-hub lab URL [--endpoint-url ...]` does the same without a file. Credentials are not set here: they come
# from the standard AWS chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials, an
# instance role), so this file can be shared and committed. Every option: docs/reference/configuration.md.
# ruff: noqa: F821  (`c` is the configuration object Jupyter hands to this file)

c.ServerApp.contents_manager_class = "storage_hub.contents.StorageContentsManager"

# Where the contents live: s3://bucket/prefix/, cortx://bucket/prefix/, file:///path (or a plain path), any fsspec
# URL, or the name of a store in the stores file (~/.config/storage-hub/stores.toml).
c.StorageContentsManager.store_url = "s3://notebooks/"

# Backend options. For AWS S3 none are needed; for an S3-compatible server give its endpoint; for CORTX the
# endpoint and, with a self-signed certificate, the CA bundle (region US and path-style are its defaults).
c.StorageContentsManager.store_options = {
    "endpoint_url": "http://127.0.0.1:8333",
    # "ca_bundle": "/etc/ssl/certs/cortx-ca.pem",
    # "region": "US",
}

# Stop at start-up with one line saying what to fix when the store cannot be used (wrong endpoint, credentials,
# bucket, clock). On by default.
c.StorageContentsManager.check_on_start = True

# How many checkpoints to keep per file (each Ctrl-S in JupyterLab makes one; the oldest are pruned).
c.StoreCheckpoints.retention = 10
