"""The two processes the end-to-end tests drive: a dedicated SeaweedFS and ``storage-hub lab`` on it.

Both run exactly as a user runs them (``scripts/seaweedfs.sh``, the ``storage-hub lab`` command); nothing here
imports storage_hub. Each keeps its output in a file that a failing test shows.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..conftest import S3Server
from ..processes import free_port, jupyter_api, wait_for_jupyter

REPO = Path(__file__).resolve().parents[2]
SEAWEEDFS_SCRIPT = REPO / "scripts" / "seaweedfs.sh"

#: Variables of the machine that must not reach the servers: another store, other credentials, other Jupyter or
#: JupyterLab configuration.
_FOREIGN_ENV = ("AWS_", "STORAGE_HUB_", "JUPYTER", "JPY_", "IPYTHON", "XDG_", "SEAWEEDFS_")


#: JupyterLab user settings the server starts with, by plugin (under @jupyterlab/).
USER_SETTINGS: dict[str, dict[str, Any]] = {
    "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "docmanager-extension/plugin": {"autosave": False},
}


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that configures a store, AWS or Jupyter, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_ENV)}
    # The venv's bin first: `storage-hub`, `weed` and the kernel's python are the ones of this test run.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"({path}: {e})"
    return "\n".join(text.splitlines()[-lines:])


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (2nd field) is in parentheses and may contain spaces: the ppid follows the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@dataclass
class SeaweedFS:
    """A SeaweedFS of its own, started and stopped with ``scripts/seaweedfs.sh`` on ``state`` and ``port``."""

    state: Path
    port: int
    endpoint: str = ""
    key: str = ""
    secret: str = field(default="", repr=False)

    @property
    def log(self) -> Path:
        return self.state / "seaweedfs.log"

    def _script(self, action: str) -> None:
        out = self.state.parent / f"seaweedfs-{action}.out"
        with out.open("ab") as sink:
            done = subprocess.run(
                ["bash", str(SEAWEEDFS_SCRIPT), action, str(self.state)],
                env=clean_env(SEAWEEDFS_S3_PORT=str(self.port)),
                stdout=sink,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
            )
        if done.returncode != 0:
            raise RuntimeError(
                f"scripts/seaweedfs.sh {action} {self.state} failed ({done.returncode}):\n{tail(out)}\n"
                f"--- {self.log}:\n{tail(self.log)}"
            )

    def start(self) -> None:
        """Start (or restart, keeping the data and the keys) and read the endpoint and keys from ``state/env``."""
        self._script("start")
        values = {}
        for line in (self.state / "env").read_text().splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            values[name] = shlex.split(value)[0] if value else ""
        endpoint = values["STORAGE_HUB_TEST_SEAWEEDFS"]
        key, secret = values["STORAGE_HUB_TEST_SEAWEEDFS_KEY"], values["STORAGE_HUB_TEST_SEAWEEDFS_SECRET"]
        restart = bool(self.endpoint)
        if restart and (endpoint, key, secret) != (self.endpoint, self.key, self.secret):
            raise RuntimeError(f"SeaweedFS came back at {endpoint} with other keys: a restart must keep both")
        self.endpoint, self.key, self.secret = endpoint, key, secret
        if restart:
            self._wait_until_objects_read()

    def _wait_until_objects_read(self, timeout: float = 60) -> None:
        """After a restart on existing data, until an object can be read again.

        The script's readiness check is an authenticated ListBuckets, which answers as soon as the filer is up;
        reading an object's data fails with InternalError ("volume 1 not found") for a few seconds more, until the
        volume server has registered its volumes with the master.
        """
        client = self.client()
        try:
            sample = None
            for bucket in client.list_buckets()["Buckets"]:
                found = client.list_objects_v2(Bucket=bucket["Name"], MaxKeys=1).get("Contents", [])
                if found:
                    sample = (bucket["Name"], found[0]["Key"])
                    break
            if sample is None:
                return
            deadline = time.monotonic() + timeout
            while True:
                try:
                    client.get_object(Bucket=sample[0], Key=sample[1])["Body"].read()
                    return
                except ClientError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop it (idempotent)."""
        self._script("stop")

    @property
    def running(self) -> bool:
        pid_file = self.state / "weed.pid"
        return pid_file.exists() and alive(int(pid_file.read_text().strip() or 0))

    def client(self) -> Any:
        """A boto3 S3 client with this server's endpoint and keys."""
        return S3Server("SeaweedFS", self.endpoint, self.key, self.secret).client()


@dataclass
class JupyterLab:
    """``storage-hub lab s3://BUCKET/`` on a SeaweedFS, with its own HOME and Jupyter folders under ``root``."""

    s3: SeaweedFS
    bucket: str
    root: Path
    token: str
    #: More arguments for Jupyter (after the ones the tests need).
    extra_args: tuple[str, ...] = ()
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log(self) -> Path:
        return self.root / "jupyterlab.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> None:
        self.port = free_port()
        home = self.root / "home"
        dirs = {name: home / sub for name, sub in (("config", ".jupyter"), ("data", "data"), ("runtime", "runtime"))}
        for path in (home, *dirs.values()):
            path.mkdir(parents=True, exist_ok=True)
        # JupyterLab's user settings (in JUPYTER_CONFIG_DIR): no news or update check, which would ask with a toast
        # over the page and reach for the network; no autosave, so that only the tests' Ctrl-S save.
        settings = dirs["config"] / "lab" / "user-settings" / "@jupyterlab"
        for name, values in USER_SETTINGS.items():
            path = settings / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = clean_env(
            HOME=str(home),
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_DATA_DIR=str(dirs["data"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTER_TOKEN=self.token,
            AWS_ACCESS_KEY_ID=self.s3.key,
            AWS_SECRET_ACCESS_KEY=self.s3.secret,
            AWS_EC2_METADATA_DISABLED="true",
        )
        storage_hub = Path(sys.executable).with_name("storage-hub")
        argv = [
            str(storage_hub),
            "lab",
            f"s3://{self.bucket}/",
            "--endpoint-url",
            self.s3.endpoint,
            "--port",
            str(self.port),
            "--ip",
            "127.0.0.1",
            "--no-browser",
            "--",
            "--allow-root",
            "--ServerApp.port_retries=0",
            *self.extra_args,
        ]
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                argv,
                cwd=home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_jupyter(self.process, self.port, self.token, self.log, timeout)
        # JupyterLab's own page and static files come from the venv (nothing of it is in the private folders).
        request = urllib.request.Request(f"{self.url}/lab", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            page = answer.read().decode()
        if "jupyter-config-data" not in page:
            raise RuntimeError(f"/lab is not JupyterLab's page:\n{page[:2000]}\n{tail(self.log)}")

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The Jupyter REST API with the token (``path`` below ``/api/``); the decoded JSON answer or None."""
        return jupyter_api(self.port, self.token, method, path, body)

    def shut_down_kernels(self) -> None:
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")

    def stop(self) -> list[str]:
        """SIGTERM the process group (the server shuts its kernels down), then SIGKILL whatever is left.

        Returns what did not stop by itself (empty when everything did).
        """
        process = self.process
        if process is None:
            return []
        tree = descendants(process.pid)  # kernels run in sessions of their own: not in the process group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
            time.sleep(0.1)
        stragglers = [pid for pid in tree if alive(pid)]
        left = [f"pid {pid}: {_cmdline(pid)}" for pid in stragglers]
        if process.returncode == -signal.SIGKILL:
            left.append(f"the server (pid {process.pid}) ignored SIGTERM for 30 s")
        for pid in stragglers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.killpg(process.pid, signal.SIGKILL)  # anything else still in the group
            left.append(f"process group {process.pid} still had members")
        except ProcessLookupError:
            pass
        self.process = None
        return left
