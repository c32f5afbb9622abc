"""``storage-hub lab URL`` and ``examples/jupyter_server_config.py``: JupyterLab on a store without writing a file,
and the documented configuration file, both against the real SeaweedFS."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.blocking import BlockingKernelClient
from traitlets.config import PyFileConfigLoader

from storage_hub.contents import StorageContentsManager

from .conftest import TEST_BUCKET, S3Server, fresh_prefix
from .processes import free_port, jupyter_api, stop_session, storage_hub_command, wait_for_jupyter

REPO = Path(__file__).resolve().parents[1]
TOKEN = "lab-test-token"


def lab_env(tmp_path: Path, server: S3Server) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("STORAGE_HUB_STORE", "STORAGE_HUB_STORE_OPTIONS", "AWS_PROFILE"):
        env.pop(name, None)
    env.update(
        AWS_ACCESS_KEY_ID=server.key,
        AWS_SECRET_ACCESS_KEY=server.secret,
        JUPYTER_TOKEN=TOKEN,
        HOME=str(tmp_path / "home"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    return env


@contextmanager
def jupyter(tmp_path: Path, server: S3Server, command: list[str]) -> Iterator[dict[str, Any]]:
    """Run a Jupyter server ``command`` (given ``--port``) in its own session; stop it and all its kernels after."""
    port = free_port()
    log = tmp_path / "server.log"
    command = [*command, f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--allow-root"]
    command += ["--ServerApp.ip=127.0.0.1", "--ServerApp.open_browser=False"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=lab_env(tmp_path, server), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for_jupyter(process, port, TOKEN, log)
        yield {"port": port, "runtime": tmp_path / "runtime", "log": log}
    finally:
        stop_session(process)


def api(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return jupyter_api(port, TOKEN, method, path, body)


def run_in_kernel(server: dict[str, Any], code: str) -> str:
    """Start a kernel through the server's REST API, run ``code`` in it, and return what it printed."""
    kernel = api(server["port"], "POST", "kernels", {"name": "python3"})
    kc = BlockingKernelClient(connection_file=str(server["runtime"] / f"kernel-{kernel['id']}.json"))
    kc.load_connection_file()
    # A missed heartbeat counts the kernel as dead after 1 s by default; a loaded 2-core machine misses some.
    kc.hb_channel.time_to_dead = 10.0
    kc.start_channels()
    printed: list[str] = []
    try:
        try:
            kc.wait_for_ready(timeout=60)
        except RuntimeError as e:
            raise AssertionError(f"{e}; the server's log:\n{server['log'].read_text()}") from e
        reply = kc.execute_interactive(
            code, timeout=60, output_hook=lambda msg: printed.append(msg["content"].get("text", ""))
        )
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        kc.stop_channels()
        api(server["port"], "DELETE", f"kernels/{kernel['id']}")
    return "".join(printed)


def test_lab_serves_the_store_and_hands_it_to_kernels(tmp_path: Path, seaweedfs: S3Server) -> None:
    prefix = fresh_prefix()
    command = storage_hub_command("lab", f"s3://{TEST_BUCKET}/{prefix}/", "--endpoint-url", seaweedfs.endpoint, "--")
    with jupyter(tmp_path, seaweedfs, command) as server:
        port = server["port"]
        api(port, "PUT", "contents/from the browser.txt", {"type": "file", "format": "text", "content": "hello"})
        client = seaweedfs.client()
        body = client.get_object(Bucket=TEST_BUCKET, Key=f"{prefix}/from the browser.txt")["Body"].read()
        assert body == b"hello"
        client.close()

        # A kernel started by this server opens the same store with open_store() and no argument.
        code = (
            "from storage_hub import open_store\n"
            "store = open_store()\n"
            "print(store.read_text('from the browser.txt'))\n"
            "store.write_text('from the kernel.txt', 'written by the kernel')\n"
        )
        assert run_in_kernel(server, code).strip() == "hello"
        assert api(port, "GET", "contents/from the kernel.txt")["content"] == "written by the kernel"
        assert seaweedfs.secret not in server["log"].read_text()


def test_a_configured_server_hands_its_store_to_kernels_without_secrets(tmp_path: Path, seaweedfs: S3Server) -> None:
    """The jupyter_server_config.py route: the data functions in a kernel use the server's store, and what the
    server puts in the kernel's environment holds no secret (the kernel has its own credential chain)."""
    prefix = fresh_prefix()
    config = tmp_path / "jupyter_server_config.py"
    options = {"endpoint_url": seaweedfs.endpoint, "key": seaweedfs.key, "secret": seaweedfs.secret}
    config.write_text(
        'c.ServerApp.contents_manager_class = "storage_hub.contents.StorageContentsManager"\n'
        f'c.StorageContentsManager.store_url = "s3://{TEST_BUCKET}/{prefix}/"\n'
        f"c.StorageContentsManager.store_options = {options!r}\n"
    )
    command = [sys.executable, "-m", "jupyter_server", f"--config={config}"]
    with jupyter(tmp_path, seaweedfs, command) as server:
        api(server["port"], "PUT", "contents/data/a b é.csv", {"type": "file", "format": "text", "content": "x\n1\n"})
        code = (
            "import os, pandas as pd\n"
            "from storage_hub import read_data, write_data\n"
            "df = pd.read_csv(read_data('data/a b é.csv'))\n"
            "write_data('results/out.parquet', df.assign(y=df.x * 2))\n"
            "print(os.environ['STORAGE_HUB_KERNEL_STORE'], os.environ['STORAGE_HUB_KERNEL_STORE_OPTIONS'])\n"
        )
        printed = run_in_kernel(server, code)
        assert printed.split()[0] == f"s3://{TEST_BUCKET}/{prefix}/"
        assert seaweedfs.endpoint in printed
        assert seaweedfs.secret not in printed and seaweedfs.key not in printed
        listing = api(server["port"], "GET", "contents/results")
        assert [item["name"] for item in listing["content"]] == ["out.parquet"]


def run_lab_to_its_end(tmp_path: Path, server: S3Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        storage_hub_command("lab", *args),
        env=lab_env(tmp_path, server),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_lab_on_a_store_it_cannot_use_stops_with_one_line(tmp_path: Path, seaweedfs: S3Server) -> None:
    result = run_lab_to_its_end(
        tmp_path,
        seaweedfs,
        *("s3://no-such-bucket-here/", "--endpoint-url", seaweedfs.endpoint),
        *("--port", str(free_port()), "--no-browser", "--", "--allow-root"),
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "storage-hub cannot use the store" in line]
    assert len(lines) == 1, result.stderr
    assert "no-such-bucket-here" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_lab_refuses_a_malformed_url_before_starting(tmp_path: Path, seaweedfs: S3Server) -> None:
    result = run_lab_to_its_end(tmp_path, seaweedfs, "s3://key:secret@bucket/")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "secret" not in result.stderr.replace("secret key", "").replace("secret option", "")


def test_the_example_jupyter_server_config_configures_a_working_manager(
    seaweedfs: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = fresh_prefix()
    loader = PyFileConfigLoader("jupyter_server_config.py", path=str(REPO / "examples"))
    config = loader.load_config()
    assert config.ServerApp.contents_manager_class == "storage_hub.contents.StorageContentsManager"
    assert set(config.StorageContentsManager) <= set(StorageContentsManager.class_trait_names(config=True))
    # The same file, pointed at the test server's bucket instead of the demo's.
    config.StorageContentsManager.store_url = f"s3://{TEST_BUCKET}/{prefix}/"
    config.StorageContentsManager.store_options = {
        **config.StorageContentsManager.store_options,
        "endpoint_url": seaweedfs.endpoint,
    }
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweedfs.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweedfs.secret)
    manager = StorageContentsManager(config=config)  # checks the store first, as the server does
    assert manager.checkpoints.retention == config.StoreCheckpoints.retention

    async def save_and_read() -> Any:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("configured by the example")])
        await manager.save({"type": "notebook", "content": notebook}, "example.ipynb")
        return await manager.get("example.ipynb")

    model = asyncio.run(save_and_read())
    assert model["content"]["cells"][0]["source"] == "configured by the example"
    client = seaweedfs.client()
    assert client.head_object(Bucket=TEST_BUCKET, Key=f"{prefix}/example.ipynb")["ContentLength"] > 0
    client.close()


@pytest.mark.parametrize(
    ("traits", "frozen"), [({}, True), ({"freeze_startup_heap": False}, False), ({"check_on_start": False}, False)]
)
def test_the_start_up_heap_is_kept_out_of_full_collections(
    tmp_path: Path, traits: dict[str, Any], frozen: bool
) -> None:
    """After its start-up check, the manager freezes the objects made so far (``gc.freeze``): a full collection then
    visits only newer ones, instead of stopping the server 100-180 ms (botocore's S3 model is large). In a process
    of its own: a freeze lasts for the process."""
    code = (
        "import gc, json, sys\n"
        "from storage_hub.contents import StorageContentsManager\n"
        "StorageContentsManager(store_url=sys.argv[1], **json.loads(sys.argv[2]))\n"
        "print(gc.get_freeze_count())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), json.dumps(traits)], capture_output=True, text=True, check=True
    )
    count = int(done.stdout)
    assert count > 10_000 if frozen else count == 0
