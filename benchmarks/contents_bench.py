"""Benchmark Jupyter contents managers on one S3 server through jupyter_server's REST API, in one run.

Contenders, each a real ``python -m jupyter_server`` process of its own:

* ``storage_hub``: ``storage_hub.contents.StorageContentsManager`` (``store_url`` = ``s3://BUCKET/PREFIX/``);
* ``s3contents``: ``s3contents.S3ContentsManager`` 0.11.2, in its own virtualenv;
* ``jupyter-fs``: jupyter-fs 1.2.1's ``FSManager`` (PyFilesystem) over an ``s3://`` fs URL (fs-s3fs), in its own
  virtualenv;
* ``local``: jupyter_server's own ``AsyncLargeFileManager`` on local disk (the baseline).

The anchors pin conflicting dependencies, so each one gets a virtualenv under ``--venv-dir`` (default
``.state/bench-venvs/``), created with pip the first time (with the same jupyter_server version as this one). An
anchor that cannot be installed or started is reported as unavailable; no number is ever made up for it.

Every S3 manager talks to the server through a small HTTP proxy of its own in this process (127.0.0.1 only), which
counts each request (method + path -> S3 operation) and can delay each one: 0 ms for the timed operations, then
``--delay-ms`` (300) for the last test. Operations, timed through the REST API like JupyterLab calls them:

* list a folder of ``--notebooks`` (1000) notebooks and ``--folders`` (20) sub-folders (``GET ?content=1``);
* open a notebook of about ``--notebook-kib`` (100) KiB (``GET``) and save it (``PUT``);
* create, list and restore a checkpoint (``POST`` / ``GET`` / ``POST .../checkpoints[/ID]``);
* rename a folder of ``--rename-files`` (200) files (``PATCH``; a new name every time);
* upload ``--upload-mib`` (100) MiB in 1 MiB base64 chunks (``PUT`` with ``chunk`` 1..N-1, then -1), with the
  increase of the server process's peak RSS (``VmHWM``, reset through ``/proc/PID/clear_refs`` before each upload);
* the latency of ``GET /api/status`` while a listing of the big folder is in flight with every S3 request delayed
  by ``--delay-ms``.

Each operation runs once untimed per manager (warm-up, with a check of the result), then ``--repeat`` rounds with
the managers interleaved (the order rotates). Medians are reported, with the S3 requests of one operation as counted
at the proxy. The folder contents are written straight to S3 (or disk) and the folders themselves through the API,
so that each manager finds its own folder markers. Everything lives under a fresh prefix of ``--bucket`` and a
temporary folder, both deleted at the end, as are the server processes and proxies.

Run it with ``bash scripts/bench.sh``-style setup (SeaweedFS on 127.0.0.1 and STORAGE_HUB_TEST_SEAWEEDFS,
..._KEY, ..._SECRET exported), then::

    python benchmarks/contents_bench.py                               # all four managers, 5 repetitions
    python benchmarks/contents_bench.py --repeat 3 --upload-mib 32    # quicker
    python benchmarks/contents_bench.py --managers storage_hub,local --json contents.json

The exit status is 0 whether or not the targets are met (they are reported as PASS/MISS); 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.client
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from _common import (
    REGION,
    delete_prefix,
    ensure_bucket,
    phase,
    print_table,
    raw_client,
    server_arguments,
    write_json,
)
from botocore.exceptions import BotoCoreError, ClientError

MiB = 2**20
MB = 10**6
REPO = Path(__file__).resolve().parent.parent
FILL_THREADS = 16
SERVER_START_TIMEOUT = 90.0
SERVER_STOP_TIMEOUT = 10.0

SH, S3CONTENTS, JUPYTER_FS, LOCAL = "storage_hub", "s3contents", "jupyter-fs", "local"
MANAGERS = (SH, S3CONTENTS, JUPYTER_FS, LOCAL)
ANCHORS = (S3CONTENTS, JUPYTER_FS)

BIG, NB_DIR, NB_PATH, REN, UP = "big", "nb", "nb/open.ipynb", "ren", "up"

# The targets for storage_hub.
LIST_VS_LOCAL = 0.5
OPEN_VS_LOCAL = 1.5
SAVE_VS_LOCAL = 1.3
CHECKPOINT_MS = 10.0
RENAME_VS_S3CONTENTS = 0.1
STATUS_MS = 20.0
UPLOAD_VS_LOCAL = 1.3
UPLOAD_RSS_MB = 64.0


class BenchError(RuntimeError):
    """An operation failed or returned something unexpected (the manager's row says so; the run goes on)."""


# Errors that fail one manager's operation without stopping the run.
OP_ERRORS = (BenchError, OSError, http.client.HTTPException, ValueError, KeyError, TypeError)


# -- the counting (and delaying) S3 proxy ---------------------------------------------------------------------------
LIST_PARAMS = {
    "list-type", "prefix", "delimiter", "marker", "max-keys", "encoding-type", "continuation-token", "start-after",
    "fetch-owner",
}  # fmt: skip


def s3_operation(method: str, target: str, headers: dict[str, str]) -> str:
    """The S3 API operation of one path-style request (``/bucket/key?query``), for the request counts."""
    parts = urlsplit(target)
    query = {k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    bucket, _, key = parts.path.lstrip("/").partition("/")
    copy = "x-amz-copy-source" in headers
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{method} /"
    if not key:
        if method == "GET" and query <= LIST_PARAMS:
            return "ListObjectsV2" if "list-type" in query else "ListObjects"
        bucket_ops = {
            ("GET", "list-type"): "ListObjectsV2",
            ("GET", "versions"): "ListObjectVersions",
            ("GET", "uploads"): "ListMultipartUploads",
            ("GET", "location"): "GetBucketLocation",
            ("POST", "delete"): "DeleteObjects",
        }
        for (m, q), name in bucket_ops.items():
            if method == m and q in query:
                return name
        plain = {"GET": "ListObjects", "HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}
        return plain.get(method, f"{method} bucket") if not query else f"{method} bucket?{','.join(sorted(query))}"
    if method == "PUT" and "partNumber" in query:
        return "UploadPartCopy" if copy else "UploadPart"
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    if method == "POST" and "uploadId" in query:
        return "CompleteMultipartUpload"
    if method == "DELETE" and "uploadId" in query:
        return "AbortMultipartUpload"
    if method == "GET" and "uploadId" in query:
        return "ListParts"
    if query - {"versionId", "x-id"}:
        return f"{method} object?{','.join(sorted(query))}"
    if method == "GET":
        return "GetObject"
    plain = {"HEAD": "HeadObject", "PUT": "CopyObject" if copy else "PutObject", "DELETE": "DeleteObject"}
    return plain.get(method, f"{method} object")


@dataclass
class Seen:
    """One request seen by the proxy."""

    operation: str
    method: str
    target: str
    range: str = ""

    def line(self) -> str:
        return f"{self.operation:<14} {self.method} {self.target}" + (f"  [Range: {self.range}]" if self.range else "")


class S3Proxy:
    """A pass-through HTTP/1.1 proxy on 127.0.0.1 that counts, and optionally delays, every request.

    It parses the request side only (request line, headers, then a ``Content-Length`` or chunked body, so that
    keep-alive connections are followed request by request) and relays the response bytes untouched. Each request
    waits ``delay`` seconds before it is forwarded. Runs its own event loop in a daemon thread.
    """

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the proxy needs an http:// endpoint, got {upstream!r}")
        self.upstream = (parts.hostname, parts.port or 80)
        self.delay = 0.0
        self.port = 0
        self._lock = threading.Lock()
        self._seen: list[Seen] = []
        self._total = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="s3-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Proxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._handle, "127.0.0.1", 0, limit=MiB)

    def close(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        if self._thread.is_alive():
            with contextlib.suppress(TimeoutError, RuntimeError):
                asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    # counting
    def take(self) -> list[Seen]:
        """The requests seen since the last ``take``, oldest first."""
        with self._lock:
            seen, self._seen = self._seen, []
        return seen

    @property
    def total(self) -> int:
        with self._lock:
            return self._total

    def _record(self, method: str, target: str, headers: dict[str, str]) -> None:
        with self._lock:
            operation = s3_operation(method, target, headers)
            self._seen.append(Seen(operation, method, target, headers.get("range", "")))
            self._total += 1

    # relaying
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream, limit=MiB)
        except OSError:
            writer.close()
            return
        back = asyncio.create_task(self._pipe(up_reader, writer))
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    break
                method, target, headers = self._parse_head(head)
                self._record(method, target, headers)
                if self.delay > 0:
                    await asyncio.sleep(self.delay)
                up_writer.write(head)
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    await self._relay_chunked(reader, up_writer)
                else:
                    await self._relay(reader, up_writer, int(headers.get("content-length", "0") or 0))
                await up_writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client or the server went away, or the proxy is closing
        finally:
            up_writer.close()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, asyncio.TimeoutError):
                await asyncio.wait_for(back, 5)
            writer.close()

    @staticmethod
    def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        return method, target, headers

    @staticmethod
    async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, size: int) -> None:
        while size > 0:
            data = await reader.read(min(size, MiB))
            if not data:
                raise ConnectionError("client closed the connection in a request body")
            writer.write(data)
            await writer.drain()
            size -= len(data)

    async def _relay_chunked(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line = await reader.readuntil(b"\r\n")
            writer.write(line)
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:  # trailers, then an empty line
                while True:
                    trailer = await reader.readuntil(b"\r\n")
                    writer.write(trailer)
                    if trailer == b"\r\n":
                        return
            await self._relay(reader, writer, size + 2)  # the chunk and its CRLF

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(MiB):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


# -- the anchors' virtualenvs --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnchorSpec:
    name: str
    venv: str
    requirements: tuple[str, ...]
    probe: str


ANCHOR_SPECS = {
    S3CONTENTS: AnchorSpec(S3CONTENTS, "s3contents-0.11.2", ("s3contents==0.11.2",), "import s3contents"),
    JUPYTER_FS: AnchorSpec(
        JUPYTER_FS,
        "jupyter-fs-1.2.1",
        # fs 2.4 imports pkg_resources, which setuptools 81 removed
        ("jupyter-fs[fs]==1.2.1", "setuptools<81"),
        "from jupyterfs.manager import FSManager; import fs_s3fs",
    ),
}


def ensure_anchor_venv(spec: AnchorSpec, venv_dir: Path, install: bool) -> tuple[Path | None, str]:
    """The python of ``spec``'s virtualenv, created and filled with pip if missing; else None and why not.

    The virtualenv is made from this interpreter (``python -m venv``) and gets the same jupyter_server version as
    this one, so that only the contents manager differs between the servers.
    """
    root = venv_dir / spec.venv
    python = root / "bin" / "python"
    if python.exists() and _probe(python, spec.probe):
        return python, "ready"
    if not install:
        return None, f"no working virtualenv at {root} (--no-install given)"
    server_pin = f"jupyter_server=={version('jupyter_server')}"
    log = venv_dir / f"{spec.venv}.pip.log"
    print(
        f"... {spec.name}: creating {root} (pip install {' '.join(spec.requirements)} {server_pin}; "
        f"log in {log}); this takes a minute or two, once",
        file=sys.stderr,
        flush=True,
    )
    venv_dir.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(root)],
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", *spec.requirements, server_pin],
        ]
        for step in steps:
            out.write(f"$ {' '.join(step)}\n")
            out.flush()
            if subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, check=False).returncode != 0:
                return None, f"{' '.join(step[:4])}... failed; see {log}: {_tail(log, 3)}"
    if not _probe(python, spec.probe):
        return None, f"installed, but `{spec.probe}` fails in {root}; see {log}"
    return python, "installed"


def _probe(python: Path, code: str) -> bool:
    result = subprocess.run([str(python), "-c", code], capture_output=True, check=False, timeout=120)
    return result.returncode == 0


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


# -- the Jupyter servers --------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Api:
    """A keep-alive HTTP connection to one Jupyter server's REST API (token auth)."""

    def __init__(self, port: int, token: str, timeout: float = 600.0) -> None:
        self.port, self.token, self.timeout = port, token, timeout
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def call(self, method: str, url: str, body: bytes | None = None, expect: int | None = None) -> Any:
        """Send one request; returns the decoded JSON answer (None if empty). Raises BenchError on a bad status."""
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Authorization": f"token {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            self._conn.request(method, url, body=body, headers=headers)
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if (expect is not None and response.status != expect) or response.status >= 400:
            raise BenchError(f"{method} {url} -> {response.status}: {data[:300].decode('utf-8', 'replace')}")
        return json.loads(data) if data else None


def contents_url(path: str, **query: str) -> str:
    url = "/api/contents/" + quote(path)
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def to_json(value: Any) -> bytes:
    return json.dumps(value).encode()


@dataclass
class Server:
    """One jupyter_server process with one contents manager (and, for S3 managers, its proxy)."""

    name: str
    python: Path
    config: str
    workdir: Path
    env: dict[str, str]
    proxy: S3Proxy | None = None
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    _api: Api | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = Api(self.port, self.token)
        return self._api

    def start(self) -> None:
        self.port = free_port()
        (self.workdir / "root").mkdir(parents=True, exist_ok=True)
        config = self.workdir / "jupyter_server_config.py"
        config.write_text(self.config, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "AWS_"))}
        env.update(
            JUPYTER_CONFIG_DIR=str(self.workdir / "config"),
            JUPYTER_DATA_DIR=str(self.workdir / "data"),
            JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"),
            AWS_DEFAULT_REGION=REGION,
            AWS_EC2_METADATA_DISABLED="true",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env)
        command = [
            str(self.python),
            "-m",
            "jupyter_server",
            f"--config={config}",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.workdir / 'root'}",
            "--ServerApp.log_level=WARN",
            "--no-browser",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        probe = Api(self.port, self.token, timeout=5)
        try:
            while True:
                if self.process.poll() is not None:
                    raise BenchError(f"the server exited with status {self.process.returncode}: {self.log_tail()}")
                with contextlib.suppress(OSError, http.client.HTTPException, BenchError):
                    probe.call("GET", "/api/status")
                    return
                if time.monotonic() > deadline:
                    raise BenchError(f"no answer within {SERVER_START_TIMEOUT:.0f} s: {self.log_tail()}")
                time.sleep(0.2)
        finally:
            probe.close()

    def log_tail(self, lines: int = 4) -> str:
        return _tail(self.log_path, lines) or "(empty log)"

    def stop(self) -> None:
        if self._api is not None:
            self._api.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(SERVER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.proxy is not None:
            self.proxy.close()

    # memory of the server process (Linux)
    def _status_kib(self, field_name: str) -> int | None:
        if self.process is None:
            return None
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            return None
        return None

    def rss_bytes(self) -> int | None:
        kib = self._status_kib("VmRSS")
        return None if kib is None else kib * 1024

    def peak_bytes(self) -> int | None:
        kib = self._status_kib("VmHWM")
        return None if kib is None else kib * 1024

    def reset_peak(self) -> bool:
        """Reset the process's peak RSS (VmHWM) to its current RSS; False if the kernel does not allow it."""
        if self.process is None:
            return False
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def requests(self) -> list[Seen]:
        return self.proxy.take() if self.proxy is not None else []


def server_config(name: str, bucket: str, root: str, proxy_url: str) -> str:
    """The jupyter_server config file of one manager; S3 credentials come from BENCH_S3_KEY/BENCH_S3_SECRET."""
    header = (
        "import os\n\nc = get_config()  # noqa: F821\n"
        "KEY, SECRET = os.environ['BENCH_S3_KEY'], os.environ['BENCH_S3_SECRET']\n"
    )
    if name == SH:
        body = f"""
            c.ServerApp.contents_manager_class = "storage_hub.contents.StorageContentsManager"
            c.StorageContentsManager.store_url = {f"s3://{bucket}/{root}/"!r}
            c.StorageContentsManager.store_options = {{"endpoint_url": {proxy_url!r}, "key": KEY, "secret": SECRET}}
            """
    elif name == S3CONTENTS:
        body = f"""
            c.ServerApp.contents_manager_class = "s3contents.S3ContentsManager"
            c.S3ContentsManager.bucket = {bucket!r}
            c.S3ContentsManager.prefix = {root!r}
            c.S3ContentsManager.endpoint_url = {proxy_url!r}
            c.S3ContentsManager.access_key_id = KEY
            c.S3ContentsManager.secret_access_key = SECRET
            c.S3ContentsManager.region_name = {REGION!r}
            """
    elif name == JUPYTER_FS:
        # FSManager takes its fs URL as a constructor argument, which ServerApp does not pass: a subclass does.
        body = f"""
            from urllib.parse import quote
            from jupyterfs.manager import FSManager

            URL = "s3://%s:%s@{bucket}/{root}?endpoint_url=%s" % (
                quote(KEY, safe=""), quote(SECRET, safe=""), quote({proxy_url!r}, safe="")
            )


            class BenchFSManager(FSManager):
                def __init__(self, parent=None, log=None, **kwargs):
                    super().__init__(URL, parent=parent)


            c.ServerApp.contents_manager_class = BenchFSManager
            """
    elif name == LOCAL:
        body = """
            c.ServerApp.contents_manager_class = (
                "jupyter_server.services.contents.largefilemanager.AsyncLargeFileManager"
            )
            c.AsyncLargeFileManager.delete_to_trash = False
            """
    else:
        raise ValueError(name)
    return header + textwrap.dedent(body)


# -- the data -------------------------------------------------------------------------------------------------------
def notebook(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """A valid nbformat 4.5 notebook (as a JSON-ready dict) with ``cells``."""
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def markdown_cell(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": uuid.uuid4().hex[:8], "metadata": {}, "source": text}


def code_cell(source: str, count: int, stdout: str) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": count,
        "id": uuid.uuid4().hex[:8],
        "metadata": {},
        "outputs": [{"name": "stdout", "output_type": "stream", "text": stdout}],
        "source": source,
    }


def small_notebook(i: int) -> bytes:
    cells = [markdown_cell(f"# Notebook {i}"), code_cell(f"x = {i}\nprint(x * 2)", 1, f"{i * 2}\n")]
    return json.dumps(notebook(cells), indent=1).encode()


def big_notebook(kib: int) -> dict[str, Any]:
    """A notebook of about ``kib`` KiB (as saved): code cells with source and text outputs, and markdown cells."""
    line = "value = compute(alpha, beta, gamma)  # a line of code of a realistic length\n"
    out_line = "step %05d: loss=0.123456 accuracy=0.987654 elapsed=12.3s\n"
    cells: list[dict[str, Any]] = []
    while len(json.dumps(notebook(cells), indent=1)) < kib * 1024:
        n = len(cells) // 2
        stdout = "".join(out_line % (n * 30 + k) for k in range(30))
        cells += [markdown_cell(f"## Step {n}\nSome explanation of the step."), code_cell(line * 10, n + 1, stdout)]
    return notebook(cells)


@dataclass
class Layout:
    """Where one manager's data lives: an S3 prefix (without bucket, with a trailing slash) or a local folder."""

    name: str
    s3_root: str | None = None
    local_root: Path | None = None

    def put(self, client: Any, bucket: str, path: str, data: bytes) -> None:
        if self.s3_root is not None:
            client.put_object(Bucket=bucket, Key=self.s3_root + path, Body=data)
        else:
            assert self.local_root is not None
            target = self.local_root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def size(self, client: Any, bucket: str, path: str) -> int | None:
        if self.s3_root is not None:
            try:
                size: int = client.head_object(Bucket=bucket, Key=self.s3_root + path)["ContentLength"]
            except ClientError:
                return None
            return size
        assert self.local_root is not None
        try:
            return (self.local_root / path).stat().st_size
        except OSError:
            return None


def make_dirs(server: Server, paths: Sequence[str]) -> None:
    for path in paths:
        server.api.call("PUT", contents_url(path), to_json({"type": "directory"}))


def fill(server: Server, layout: Layout, args: argparse.Namespace, client: Any, nb: dict[str, Any]) -> None:
    """Create the test tree of one manager: folders through its API, the many files straight to storage."""
    make_dirs(server, [BIG, *(f"{BIG}/sub-{i:02d}" for i in range(args.folders)), NB_DIR, REN, f"{REN}/f0", UP])
    server.api.call("PUT", contents_url(NB_PATH), to_json({"type": "notebook", "format": "json", "content": nb}))
    jobs = [(f"{BIG}/nb-{i:04d}.ipynb", small_notebook(i)) for i in range(args.notebooks)]
    jobs += [(f"{REN}/f0/file-{i:03d}.txt", b"%d\n" % i) for i in range(args.rename_files)]
    with ThreadPoolExecutor(FILL_THREADS) as pool:
        for _ in pool.map(lambda job: layout.put(client, args.bucket, *job), jobs):
            pass
    server.requests()  # forget the set-up requests


# -- measuring ------------------------------------------------------------------------------------------------------
@dataclass
class Result:
    """The timings of one manager on one operation."""

    operation: str
    manager: str
    seconds: list[float] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    requests_vary: bool = False
    trace: list[str] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(median_s=self.median)
        return data


Runner = Callable[[Server], None]


def run_once(server: Server, result: Result, runner: Runner) -> tuple[float, list[Seen]] | None:
    """One timed call; a failure is recorded in ``result`` (and stops that manager's rounds)."""
    server.requests()
    started = time.perf_counter()
    try:
        runner(server)
    except OP_ERRORS as e:
        result.error = f"{type(e).__name__}: {e}"[:400]
        return None
    elapsed = time.perf_counter() - started
    return elapsed, server.requests()


def measure(
    operation: str,
    servers: Sequence[Server],
    runner: Runner,
    args: argparse.Namespace,
    after: Runner | None = None,
) -> list[Result]:
    """Warm each server up once (the runner checks the result), then time ``args.repeat`` interleaved rounds.

    ``after`` runs untimed after every call (a check, a clean-up). A manager whose call takes longer than
    ``args.budget`` seconds gets no further rounds (that call is kept as a sample, even the warm-up).
    """
    results = {s.name: Result(operation, s.name) for s in servers}
    counts: dict[str, list[Counter[str]]] = {s.name: [] for s in servers}
    stopped: set[str] = set()
    for rnd in range(-1, args.repeat):  # -1: the warm-up round
        order = [servers[(i + max(rnd, 0)) % len(servers)] for i in range(len(servers))]
        for server in order:
            result = results[server.name]
            if result.error is not None or server.name in stopped:
                continue
            outcome = run_once(server, result, runner)
            if outcome is not None and after is not None:
                try:
                    after(server)
                except OP_ERRORS as e:
                    result.error = f"{type(e).__name__}: {e}"[:400]
                    continue
            if outcome is None:
                continue
            elapsed, seen = outcome
            if rnd >= 0 or elapsed > args.budget:
                result.seconds.append(elapsed)
                counts[server.name].append(Counter(s.operation for s in seen))
                result.trace = [s.line() for s in seen]
            if elapsed > args.budget:
                stopped.add(server.name)
                warm = " (the first is the warm-up)" if rnd < 0 else ""
                result.notes.append(f"{len(result.seconds)} run(s) only{warm}: over --budget {args.budget:g} s")
    for name, result in results.items():
        if counts[name]:
            last = counts[name][-1]
            result.requests = dict(sorted(last.items()))
            result.requests_vary = any(c != last for c in counts[name])
    return list(results.values())


def bench_listing(servers: Sequence[Server], args: argparse.Namespace) -> list[Result]:
    expected = args.notebooks + args.folders

    def listing(server: Server) -> None:
        model = server.api.call("GET", contents_url(BIG, content="1"))
        found = len(model.get("content") or [])
        if found != expected:
            raise BenchError(f"the listing has {found} entries, expected {expected}")

    return measure(f"list {args.notebooks} notebooks + {args.folders} folders", servers, listing, args)


def bench_notebook(servers: Sequence[Server], args: argparse.Namespace, nb: dict[str, Any]) -> list[Result]:
    cells = len(nb["cells"])
    body = to_json({"type": "notebook", "format": "json", "content": nb})

    def open_notebook(server: Server) -> None:
        model = server.api.call("GET", contents_url(NB_PATH, type="notebook", content="1"))
        if len(model["content"]["cells"]) != cells:
            raise BenchError(f"the notebook has {len(model['content']['cells'])} cells, expected {cells}")

    def save_notebook(server: Server) -> None:
        model = server.api.call("PUT", contents_url(NB_PATH), body)
        if model.get("type") != "notebook":
            raise BenchError(f"save answered {model!r:.200}")

    size = f"{len(body) // 1024} KiB"
    results = measure(f"open a notebook ({size})", servers, open_notebook, args)
    return results + measure(f"save a notebook ({size})", servers, save_notebook, args)


CHECKPOINT_NOTES = {
    S3CONTENTS: "checkpoints on the server's local disk (GenericFileCheckpoints)",
    JUPYTER_FS: "no-op (NullCheckpoints: nothing is saved or restored)",
    LOCAL: "a copy in .ipynb_checkpoints/ (AsyncFileCheckpoints)",
}


def bench_checkpoints(servers: Sequence[Server], args: argparse.Namespace) -> list[Result]:
    base = contents_url(NB_PATH) + "/checkpoints"

    def create(server: Server) -> None:
        checkpoint = server.api.call("POST", base, expect=201)
        server.state["checkpoint"] = checkpoint["id"]

    def listing(server: Server) -> None:
        found = server.api.call("GET", base)
        if not isinstance(found, list) or not found:
            raise BenchError(f"no checkpoint listed: {found!r:.200}")

    def restore(server: Server) -> None:
        server.api.call("POST", f"{base}/{quote(str(server.state['checkpoint']))}", expect=204)

    results = measure("create a checkpoint", servers, create, args)
    results += measure("list checkpoints", servers, listing, args)
    results += measure("restore a checkpoint", servers, restore, args)
    for r in results:
        if r.manager in CHECKPOINT_NOTES and r.operation != "list checkpoints":
            r.notes.append(CHECKPOINT_NOTES[r.manager])
    return results


def bench_rename(servers: Sequence[Server], args: argparse.Namespace) -> list[Result]:
    def rename(server: Server) -> None:
        n = server.state.get("rename", 0)
        model = server.api.call("PATCH", contents_url(f"{REN}/f{n}"), to_json({"path": f"{REN}/f{n + 1}"}))
        if model.get("path") != f"{REN}/f{n + 1}":
            raise BenchError(f"rename answered {model!r:.200}")
        server.state["rename"] = n + 1

    return measure(f"rename a folder of {args.rename_files} files", servers, rename, args)


def upload_chunks(size: int, chunk: int) -> list[str]:
    data = os.urandom(size)
    return [base64.b64encode(data[i : i + chunk]).decode("ascii") for i in range(0, size, chunk)]


def bench_upload(
    servers: Sequence[Server], args: argparse.Namespace, layouts: dict[str, Layout], client: Any
) -> list[Result]:
    """JupyterLab's chunked upload; also the increase of the server's peak RSS during each upload."""
    size, chunk = args.upload_mib * MiB, args.chunk_mib * MiB
    chunks = upload_chunks(size, chunk)

    def upload(server: Server) -> None:
        n = server.state.get("upload", 0)
        server.state["upload"] = n + 1
        path = f"{UP}/upload-{n}.bin"
        head = json.dumps({"type": "file", "format": "base64", "name": path.rsplit("/", 1)[1], "path": path})[:-1]
        url = contents_url(path)
        rss_before = server.rss_bytes()
        peak_reset = server.reset_peak()
        for i, content in enumerate(chunks):
            number = -1 if i == len(chunks) - 1 else i + 1
            server.api.call("PUT", url, f'{head}, "chunk": {number}, "content": "{content}"}}'.encode())
        peak = server.peak_bytes()
        if rss_before is not None and peak is not None and peak_reset:
            server.state.setdefault("rss", []).append(peak - rss_before)
        server.state.setdefault("uploaded", []).append(path)

    def check_and_clean(server: Server) -> None:
        for path in server.state.pop("uploaded", []):
            found = layouts[server.name].size(client, args.bucket, path)
            if found != size:
                raise BenchError(f"{path} holds {found} bytes after the upload, expected {size}")
            with contextlib.suppress(*OP_ERRORS):
                server.api.call("DELETE", contents_url(path))
        server.requests()

    results = measure(
        f"upload {args.upload_mib} MiB in {args.chunk_mib} MiB chunks", servers, upload, args, check_and_clean
    )
    for result in results:
        rss = next(s for s in servers if s.name == result.manager).state.get("rss", [])
        if rss:
            result.extra.update(rss_increase_bytes=rss, rss_first_bytes=rss[0], rss_max_bytes=max(rss))
    return results


def poll_status(api: Api, listing: threading.Thread, deadline: float, result: Result) -> tuple[list[float], bool]:
    """GET /api/status every 20 ms while ``listing`` runs; the latencies, and whether one got no answer in time."""
    samples: list[float] = []
    while listing.is_alive() and time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            api.call("GET", "/api/status")
        except TimeoutError:
            samples.append(time.perf_counter() - started)
            return samples, True
        except OP_ERRORS as e:
            result.error = f"/api/status failed: {type(e).__name__}: {e}"[:300]
            break
        samples.append(time.perf_counter() - started)
        time.sleep(0.02)
    return samples, False


def bench_status(server: Server, args: argparse.Namespace) -> Result:
    """/api/status latencies while a listing of the big folder runs with every S3 request delayed."""
    result = Result(f"/api/status during a listing, +{args.delay_ms} ms per S3 request", server.name)
    if server.proxy is None:
        result.notes.append("no S3 requests (local disk)")
        return result
    server.proxy.delay = args.delay_ms / 1000
    server.requests()
    before = server.proxy.total
    listing_api = Api(server.port, server.token, timeout=args.status_timeout + 60)
    done: dict[str, Any] = {}

    def list_folder() -> None:
        started = time.perf_counter()
        try:
            listing_api.call("GET", contents_url(BIG, content="1"))
        except OP_ERRORS as e:
            done["error"] = f"{type(e).__name__}: {e}"[:200]
        done["seconds"] = time.perf_counter() - started

    status_api = Api(server.port, server.token, timeout=args.status_timeout)
    thread = threading.Thread(target=list_folder, daemon=True)
    started = time.perf_counter()
    thread.start()
    deadline = started + args.status_timeout
    while server.proxy.total == before and thread.is_alive() and time.perf_counter() < deadline:
        time.sleep(0.001)
    first_request = time.perf_counter() - started
    samples, timed_out = poll_status(status_api, thread, deadline, result)
    thread.join(max(0.0, deadline - time.perf_counter()) + 1)
    status_api.close()
    seen = server.requests()
    result.seconds = samples
    result.requests = dict(sorted(Counter(s.operation for s in seen).items()))
    result.extra.update(
        samples=len(samples),
        max_s=max(samples) if samples else None,
        listing_s=done.get("seconds"),
        first_s3_request_after_s=first_request,
    )
    if "seconds" in done:
        result.notes.append(f"the listing took {done['seconds']:.2f} s")
    else:
        result.notes.append(f"the listing was still running after {args.status_timeout:.0f} s")
    if "error" in done:
        result.notes.append(f"the listing failed: {done['error']}")
    if timed_out:
        result.notes.append(f"/api/status got no answer within {args.status_timeout:.0f} s")
    listing_api.close()
    server.proxy.delay = 0.0
    return result


# -- reporting ------------------------------------------------------------------------------------------------------
@dataclass
class Target:
    name: str
    verdict: str  # PASS, MISS or n/a
    detail: str


def fmt_ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.3f}x"


def fmt_requests(result: Result) -> str:
    text = " ".join(f"{name}:{n}" for name, n in result.requests.items())
    return text + (" (varies)" if result.requests_vary else "")


def by_operation(results: Sequence[Result]) -> dict[str, dict[str, Result]]:
    table: dict[str, dict[str, Result]] = {}
    for r in results:
        table.setdefault(r.operation, {})[r.manager] = r
    return table


def ratio(a: Result | None, b: Result | None) -> float | None:
    if a is None or b is None or a.median is None or b.median is None or b.median == 0:
        return None
    return a.median / b.median


def print_results(results: Sequence[Result], unavailable: dict[str, str]) -> None:
    header = ("operation", "manager", "median", "vs local", "ours vs this", "S3 requests (one op)")
    rows: list[tuple[str, ...]] = []
    for operation, group in by_operation(results).items():
        for manager in MANAGERS:
            r = group.get(manager)
            if r is None:
                if manager in unavailable:
                    rows.append((operation, manager, "-", "", "", "unavailable"))
                continue
            median = fmt_ms(r.median)
            if r.operation.startswith("/api/status") and r.seconds:
                r.notes.insert(0, f"max {fmt_ms(max(r.seconds))} over {len(r.seconds)} calls")
            vs_local = ratio(r, group.get(LOCAL)) if manager != LOCAL else None
            ours = ratio(group.get(SH), r) if manager != SH else None
            info = f"ERROR {r.error}" if r.error else fmt_requests(r)
            notes = "; ".join(r.notes)
            rss = r.extra.get("rss_max_bytes")
            if rss is not None:
                notes = "; ".join(filter(None, [f"peak RSS +{rss / MB:.0f} MB (max)", notes]))
            rows.append(
                (
                    operation,
                    manager,
                    median,
                    fmt_ratio(vs_local),
                    fmt_ratio(ours),
                    "; ".join(filter(None, [info, notes])),
                )
            )
    print_table(header, rows)


def compute_targets(results: Sequence[Result], unavailable: dict[str, str], args: argparse.Namespace) -> list[Target]:
    table = by_operation(results)

    def find(prefix: str, manager: str) -> Result | None:
        for operation, group in table.items():
            if operation.startswith(prefix):
                return group.get(manager)
        return None

    targets: list[Target] = []

    def vs(name: str, prefix: str, anchor: str, limit: float) -> None:
        ours, other = find(prefix, SH), find(prefix, anchor)
        why = _missing(ours, SH, unavailable) or _missing(other, anchor, unavailable)
        value = ratio(ours, other)
        if why or value is None:
            targets.append(Target(name, "n/a", why or "no timing"))
            return
        verdict = "PASS" if value <= limit else "MISS"
        targets.append(Target(name, verdict, f"{value:.2f}x {anchor} (target <= {limit}x)"))

    def requests(name: str, prefix: str, want: dict[str, int], total: int | None) -> None:
        ours = find(prefix, SH)
        why = _missing(ours, SH, unavailable)
        if why or ours is None:
            targets.append(Target(name, "n/a", why))
            return
        got = ours.requests
        ok = all(got.get(k, 0) == v for k, v in want.items()) and (total is None or sum(got.values()) == total)
        ok = ok and not ours.requests_vary
        wanted = " ".join(f"{k}:{v}" for k, v in want.items()) + (f", {total} in all" if total is not None else "")
        targets.append(Target(name, "PASS" if ok else "MISS", f"{fmt_requests(ours) or 'none'} (target {wanted})"))

    def absolute(name: str, prefix: str, limit_ms: float, use_max: bool = False) -> None:
        ours = find(prefix, SH)
        why = _missing(ours, SH, unavailable)
        if why or ours is None or not ours.seconds:
            targets.append(Target(name, "n/a", why or "no timing"))
            return
        value = (max(ours.seconds) if use_max else statistics.median(ours.seconds)) * 1000
        what = "max" if use_max else "median"
        verdict = "PASS" if value <= limit_ms else "MISS"
        targets.append(Target(name, verdict, f"{what} {value:.1f} ms (target <= {limit_ms:g} ms)"))

    listed = f"list {args.notebooks} notebooks + {args.folders} folders"
    pages = max(1, -(-(args.notebooks + args.folders) // 1000))  # one ListObjectsV2 per 1,000 entries
    vs(f"{listed}: time", "list", LOCAL, LIST_VS_LOCAL)
    requests(f"{listed}: requests", "list", {"ListObjectsV2": pages, "HeadObject": 0}, None)
    vs("open a notebook: time", "open", LOCAL, OPEN_VS_LOCAL)
    requests("open a notebook: requests", "open", {"GetObject": 1}, 1)
    vs("save a notebook: time", "save", LOCAL, SAVE_VS_LOCAL)
    requests("save a notebook: requests", "save", {"PutObject": 1}, 1)
    absolute("create a checkpoint: time", "create a checkpoint", CHECKPOINT_MS)
    requests("create a checkpoint: one server-side copy", "create a checkpoint", {"CopyObject": 1}, None)
    absolute("restore a checkpoint: time", "restore a checkpoint", CHECKPOINT_MS)
    requests("restore a checkpoint: one server-side copy", "restore a checkpoint", {"CopyObject": 1}, None)
    vs(f"rename a folder of {args.rename_files} files", "rename", S3CONTENTS, RENAME_VS_S3CONTENTS)
    absolute("/api/status while a slow listing runs", "/api/status", STATUS_MS, use_max=True)
    uploaded = f"upload {args.upload_mib} MiB in {args.chunk_mib} MiB chunks"
    vs(f"{uploaded}: time", "upload", LOCAL, UPLOAD_VS_LOCAL)
    targets.append(rss_target(f"{uploaded}: peak RSS", find("upload", SH), unavailable))
    return targets


def rss_target(name: str, up: Result | None, unavailable: dict[str, str]) -> Target:
    why = _missing(up, SH, unavailable)
    rss = up.extra.get("rss_max_bytes") if up is not None else None
    if why or rss is None:
        return Target(name, "n/a", why or "RSS not measurable here")
    verdict = "PASS" if rss / MB <= UPLOAD_RSS_MB else "MISS"
    return Target(name, verdict, f"+{rss / MB:.0f} MB, max over the uploads (target <= +{UPLOAD_RSS_MB:g} MB)")


def _missing(result: Result | None, manager: str, unavailable: dict[str, str]) -> str:
    if manager in unavailable:
        return f"{manager} unavailable"
    if result is None:
        return f"{manager} not measured"
    if result.error:
        return f"{manager} failed: {result.error[:120]}"
    return ""


def print_traces(results: Sequence[Result], bucket: str, prefix: str, manager: str, limit: int) -> None:
    print(f"S3 requests of {manager}, one operation each (last timed round; keys shown without {bucket}/{prefix}):")
    encoded = quote(prefix, safe="")

    def short(line: str) -> str:
        return line.replace(f"/{bucket}/{prefix}", "/", 1).replace(encoded, "", 1)

    for r in results:
        if r.manager != manager or not r.trace:
            continue
        print(f"  {r.operation}: {len(r.trace)} requests")
        shown = r.trace if len(r.trace) <= limit else r.trace[: limit - 2]
        for line in shown:
            print("    " + short(line))
        if len(r.trace) > limit:
            print(f"    ... {len(r.trace) - len(shown) - 1} more ...")
            print("    " + short(r.trace[-1]))


# -- main -----------------------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    server_arguments(parser)
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions per manager (default 5)")
    parser.add_argument(
        "--managers", default=",".join(MANAGERS), help=f"comma-separated subset of {','.join(MANAGERS)} (default all)"
    )
    parser.add_argument("--notebooks", type=int, default=1000, help="notebooks in the listed folder (default 1000)")
    parser.add_argument("--folders", type=int, default=20, help="sub-folders in the listed folder (default 20)")
    parser.add_argument("--notebook-kib", type=int, default=100, help="size of the opened notebook (default 100)")
    parser.add_argument("--rename-files", type=int, default=200, help="files in the renamed folder (default 200)")
    parser.add_argument("--upload-mib", type=int, default=100, help="size of the uploaded file (default 100)")
    parser.add_argument("--chunk-mib", type=int, default=1, help="upload chunk size (default 1, as JupyterLab)")
    parser.add_argument("--delay-ms", type=int, default=300, help="delay per S3 request in the status test (300)")
    parser.add_argument(
        "--status-timeout", type=float, default=20.0, help="seconds to watch /api/status during the listing (20)"
    )
    parser.add_argument(
        "--budget", type=float, default=60.0, help="no more rounds for a manager once one call took longer (60 s)"
    )
    parser.add_argument("--venv-dir", type=Path, default=REPO / ".state" / "bench-venvs")
    parser.add_argument("--no-install", action="store_true", help="never create the anchors' virtualenvs")
    parser.add_argument("--trace-limit", type=int, default=12, help="requests shown per operation (default 12)")
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE as JSON")
    args = parser.parse_args(argv)
    for name in ("endpoint_url", "key", "secret"):
        if not getattr(args, name):
            parser.error(f"--{name.replace('_', '-')} is required (or set the STORAGE_HUB_TEST_SEAWEEDFS* variables)")
    if urlsplit(args.endpoint_url).scheme != "http":
        parser.error("--endpoint-url must be an http:// URL (the counting proxy speaks plain HTTP)")
    positive = ("repeat", "notebooks", "notebook_kib", "rename_files", "upload_mib", "chunk_mib")
    if any(getattr(args, name) < 1 for name in positive) or args.folders < 0 or args.delay_ms < 0:
        parser.error(
            "--repeat, --notebooks, --notebook-kib, --rename-files, --upload-mib, --chunk-mib must be positive"
        )
    args.managers = [m.strip() for m in args.managers.split(",") if m.strip()]
    unknown = set(args.managers) - set(MANAGERS)
    if unknown or not args.managers:
        parser.error(
            f"--managers: unknown {', '.join(sorted(unknown)) or '(none given)'}; known: {', '.join(MANAGERS)}"
        )
    return args


def find_pythons(args: argparse.Namespace) -> tuple[dict[str, Path], dict[str, str]]:
    """The interpreter of each manager, and why the others are unavailable."""
    pythons: dict[str, Path] = {}
    unavailable: dict[str, str] = {}
    for name in args.managers:
        if name in ANCHOR_SPECS:
            python, why = ensure_anchor_venv(ANCHOR_SPECS[name], args.venv_dir, not args.no_install)
            if python is None:
                unavailable[name] = why
            else:
                pythons[name] = python
        elif name == SH and not _probe(Path(sys.executable), "from storage_hub.contents import StorageContentsManager"):
            unavailable[name] = "storage_hub.contents.StorageContentsManager cannot be imported"
        else:
            pythons[name] = Path(sys.executable)
    return pythons, unavailable


def versions_of(pythons: dict[str, Path]) -> dict[str, str]:
    found = {"jupyter_server": version("jupyter_server")}
    with contextlib.suppress(PackageNotFoundError):
        found["storage-hub"] = version("storage-hub")
    wanted = {S3CONTENTS: ("s3contents", "s3fs"), JUPYTER_FS: ("jupyter-fs", "fs-s3fs", "boto3")}
    for name, packages in wanted.items():
        if name in pythons:
            code = f"import importlib.metadata as m; print(' '.join(m.version(p) for p in {packages!r}))"
            out = subprocess.run([str(pythons[name]), "-c", code], capture_output=True, text=True, check=False)
            for package, v in zip(packages, out.stdout.split(), strict=False):
                found[f"{package} ({name})"] = v
    return found


def proxy_overhead(args: argparse.Namespace, key: str, rounds: int = 50) -> tuple[float, float]:
    """Median HeadObject time straight to the server and through a (0 ms) proxy, interleaved."""
    proxy = S3Proxy(args.endpoint_url).start()
    try:
        direct = raw_client(args.endpoint_url, args.key, args.secret)
        proxied = raw_client(proxy.url, args.key, args.secret)
        times: dict[int, list[float]] = {0: [], 1: []}
        for i in range(rounds + 2):
            for which, client in enumerate((direct, proxied)):
                started = time.perf_counter()
                client.head_object(Bucket=args.bucket, Key=key)
                if i >= 2:
                    times[which].append(time.perf_counter() - started)
    finally:
        proxy.close()
    return statistics.median(times[0]), statistics.median(times[1])


def start_servers(
    args: argparse.Namespace, pythons: dict[str, Path], unavailable: dict[str, str], prefix: str, tmp: Path
) -> tuple[list[Server], dict[str, Layout]]:
    servers: list[Server] = []
    layouts: dict[str, Layout] = {}
    env = {"BENCH_S3_KEY": args.key, "BENCH_S3_SECRET": args.secret}
    client = raw_client(args.endpoint_url, args.key, args.secret)
    for name in args.managers:
        if name not in pythons:
            continue
        workdir = tmp / name
        workdir.mkdir()
        if name == LOCAL:
            server = Server(name, pythons[name], server_config(name, "", "", ""), workdir, env)
            layout = Layout(name, local_root=workdir / "root")
        else:
            root = f"{prefix}{name}"
            client.put_object(Bucket=args.bucket, Key=root + "/", Body=b"")  # the root folder's marker
            proxy = S3Proxy(args.endpoint_url).start()
            server = Server(name, pythons[name], server_config(name, args.bucket, root, proxy.url), workdir, env, proxy)
            layout = Layout(name, s3_root=root + "/")
        with phase(f"starting the {name} server"):
            try:
                server.start()
            except BenchError as e:
                unavailable[name] = f"the server did not start: {e}"
                server.stop()
                continue
        servers.append(server)
        layouts[name] = layout
    return servers, layouts


def run_benchmarks(
    args: argparse.Namespace, servers: list[Server], layouts: dict[str, Layout], unavailable: dict[str, str]
) -> list[Result]:
    client = raw_client(args.endpoint_url, args.key, args.secret, pool=FILL_THREADS)
    opened = big_notebook(args.notebook_kib)
    for server in list(servers):
        with phase(f"filling {server.name}: {args.notebooks} notebooks, {args.folders} folders, ..."):
            try:
                fill(server, layouts[server.name], args, client, opened)
            except (*OP_ERRORS, BotoCoreError, ClientError) as e:
                unavailable[server.name] = f"could not create the test files through it: {e}"[:300]
                servers.remove(server)
                server.stop()
    results: list[Result] = []
    with phase(f"listing, {args.repeat} rounds"):
        results += bench_listing(servers, args)
    with phase(f"opening and saving a notebook, {args.repeat} rounds"):
        results += bench_notebook(servers, args, opened)
    with phase(f"checkpoints, {args.repeat} rounds"):
        results += bench_checkpoints(servers, args)
    with phase(f"renaming a folder, {args.repeat} rounds"):
        results += bench_rename(servers, args)
    with phase(f"uploading {args.upload_mib} MiB, {args.repeat} rounds + 1 warm-up"):
        results += bench_upload(servers, args, layouts, client)
    for server in servers:  # last: a slow listing may outlive the test; the server is stopped right after it
        with phase(f"/api/status during a slow listing on {server.name}"):
            results.append(bench_status(server, args))
            server.stop()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    prefix = f"contents-bench-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}/"
    pythons, unavailable = find_pythons(args)
    versions = versions_of(pythons)
    print(f"contents benchmark: {args.endpoint_url} bucket {args.bucket!r}, prefix {prefix!r}")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    print(
        f"{args.repeat} timed repetitions (medians; managers interleaved; MB = 10^6 bytes); every S3 manager behind "
        "its own counting proxy on 127.0.0.1 (0 ms added, except in the /api/status test)"
    )
    for name, why in unavailable.items():
        print(f"UNAVAILABLE {name}: {why}")
    print()

    admin = raw_client(args.endpoint_url, args.key, args.secret)
    ensure_bucket(admin, args.bucket)
    tmp = Path(tempfile.mkdtemp(prefix="contents-bench-"))
    servers: list[Server] = []
    results: list[Result] = []
    try:
        admin.put_object(Bucket=args.bucket, Key=prefix, Body=b"")
        direct, proxied = proxy_overhead(args, prefix)
        print(
            f"the proxy adds {(proxied - direct) * 1000:.2f} ms per request "
            f"(HeadObject median {direct * 1000:.2f} ms direct, {proxied * 1000:.2f} ms through it)"
        )
        print()
        servers, layouts = start_servers(args, pythons, unavailable, prefix, tmp)
        results = run_benchmarks(args, servers, layouts, unavailable)
    finally:
        for server in servers:
            server.stop()
        with phase(f"deleting {prefix} and {tmp}"):
            deleted = delete_prefix(admin, args.bucket, prefix)
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"(deleted {deleted} objects afterwards)")
    for name, why in unavailable.items():
        if name not in pythons or why.startswith(("the server", "could not")):
            print(f"UNAVAILABLE {name}: {why}")
    print()
    print_results(results, unavailable)
    targets = compute_targets(results, unavailable, args)
    print("targets (storage_hub)")
    for t in targets:
        print(f"  {t.verdict:<4}  {t.name}: {t.detail}")
    print()
    if SH in pythons and SH not in unavailable:
        print_traces(results, args.bucket, prefix, SH, args.trace_limit)

    if args.json:
        payload = {
            "endpoint_url": args.endpoint_url,
            "bucket": args.bucket,
            "prefix": prefix,
            "repeat": args.repeat,
            "versions": versions,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "unavailable": unavailable,
            "results": [r.as_json() for r in results],
            "targets": [asdict(t) for t in targets],
        }
        write_json(args.json, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
