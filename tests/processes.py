"""Helpers for tests that run the project's commands as a user runs them: ports, process groups, readiness."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


def storage_hub_command(*args: str) -> list[str]:
    """The ``storage-hub`` command line, run as the console script runs it (``python -m storage_hub``)."""
    return [sys.executable, "-m", "storage_hub", *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def session_processes(sid: int) -> list[str]:
    """``pid: command line`` of the live processes in session ``sid`` (zombies excluded)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            found.append(f"{proc.name}: {cmdline}")
    return found


def jupyter_api(port: int, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One call of the Jupyter server's REST API on ``port`` (``path`` below ``/api/``); the JSON answer or None."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/{urllib.parse.quote(path)}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def wait_for_jupyter(process: subprocess.Popen[bytes], port: int, token: str, log: Path, timeout: float = 120) -> None:
    """Wait until the Jupyter server on ``port`` answers ``/api/status``; fail with its log if it exits or hangs."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the Jupyter server exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(request, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the Jupyter server did not answer within {timeout} s:\n{log.read_text()}")


def stop_session(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM the process group ``process`` leads, SIGKILL it after ``timeout``; nothing of it is left running."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    deadline = time.monotonic() + timeout
    while session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = session_processes(process.pid)
    if left:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError(f"processes left behind: {left}")
