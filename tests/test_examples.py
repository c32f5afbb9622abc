"""The example notebooks run from top to bottom, with nbclient and a real kernel, on the default store pointed at
the test SeaweedFS, as the demo serves them (the examples' data copied in first)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from storage_hub import open_store

from .conftest import TEST_BUCKET, S3Server, fresh_prefix

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted((EXAMPLES / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_example_notebook_runs(notebook: Path, seaweedfs: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"s3://{TEST_BUCKET}/{fresh_prefix()}/"
    with open_store(url, **seaweedfs.options()) as store:
        for file in (EXAMPLES / "data").iterdir():
            store.write_bytes(f"data/{file.name}", file.read_bytes())
        # The kernel inherits this environment, as a kernel inherits its Jupyter server's.
        monkeypatch.setenv("STORAGE_HUB_STORE", url)
        monkeypatch.setenv("STORAGE_HUB_STORE_OPTIONS", json.dumps({"endpoint_url": seaweedfs.endpoint}))
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweedfs.key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweedfs.secret)
        nb = nbformat.read(notebook, as_version=4)
        NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": os.getcwd()}}).execute()
        errors = [o for cell in nb.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert errors == []
        assert store.find("")  # it worked on the store
