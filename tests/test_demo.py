"""The README's first command, ``bash scripts/demo.sh``, run as a user runs it.

It must set up, start SeaweedFS with its data and generated credentials in a project-local folder, put the examples
in the bucket on the first start only, serve JupyterLab on the bucket behind a token, survive a restart with the
data intact, and leave no process behind after one Ctrl-C (SIGINT to its process group, as a terminal sends it).
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .processes import free_port, jupyter_api, session_processes

REPO = Path(__file__).resolve().parents[1]
URL_LINE = re.compile(r"http://127\.0\.0\.1:(\d+)/lab\?token=([0-9a-f]+)")
START_TIMEOUT = 240  # the first start installs into .venv (a no-op when the test run already did)


@dataclass
class Demo:
    process: subprocess.Popen[str]
    output: list[str]
    port: int
    token: str

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return jupyter_api(self.port, self.token, method, f"contents/{path}", body)

    def ctrl_c(self) -> int:
        """SIGINT to the whole process group, as Ctrl-C in a terminal; returns the exit code."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            code = self.process.wait(timeout=60)
        finally:
            assert self.process.stdout is not None
            self.output.append(self.process.stdout.read())
        return code


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        STORAGE_HUB_DEMO_STATE=str(tmp_path / "state"),
        STORAGE_HUB_DEMO_PORT=str(free_port()),
        SEAWEEDFS_S3_PORT=str(free_port()),
        HOME=str(tmp_path / "home"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
    )
    # The demo makes its own credentials; none of the caller's may reach it.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "STORAGE_HUB_STORE"):
        env.pop(name, None)
    return env


@pytest.fixture
def run_demo(demo_env: dict[str, str]) -> Iterator[Any]:
    started: list[Demo] = []

    def start() -> Demo:
        process = subprocess.Popen(
            ["bash", "scripts/demo.sh"],
            cwd=REPO,
            env=demo_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        assert process.stdout is not None
        output: list[str] = []
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                process.wait()
                process.stdout.close()
                pytest.fail("demo.sh exited before printing its URL:\n" + "".join(output))
            output.append(line)
            match = URL_LINE.search(line)
            if match:
                demo = Demo(process, output, int(match[1]), match[2])
                started.append(demo)
                return demo
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
        pytest.fail("demo.sh printed no URL in time:\n" + "".join(output))

    yield start
    for demo in started:
        if demo.process.poll() is None:
            os.killpg(demo.process.pid, signal.SIGKILL)
            demo.process.wait()
        assert demo.process.stdout is not None
        demo.process.stdout.close()


def test_demo_serves_the_bucket_survives_a_restart_and_stops_on_ctrl_c(run_demo: Any, demo_env: dict[str, str]) -> None:
    state = Path(demo_env["STORAGE_HUB_DEMO_STATE"])
    demo = run_demo()
    assert demo.port == int(demo_env["STORAGE_HUB_DEMO_PORT"])
    examples = {item["name"] for item in demo.api("GET", "examples")["content"]}
    assert examples == {path.name for path in (REPO / "examples" / "notebooks").iterdir()}
    csv = demo.api("GET", "data/measurements.csv")
    assert csv["content"] == (REPO / "examples" / "data" / "measurements.csv").read_text()
    notebook = demo.api("GET", "examples/Getting started.ipynb")["content"]
    notebook["cells"][0]["source"] = "# Edited before a restart"
    demo.api("PUT", "work/kept.ipynb", {"type": "notebook", "format": "json", "content": notebook})
    demo.api("DELETE", "examples/Files and folders.ipynb")

    # Without the token, nothing.
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/api/contents/", timeout=10)
    assert denied.value.code == 403
    denied.value.close()

    # Credentials are generated into the state folder, readable by the owner only, and never printed.
    keys = (state / "credentials").read_text().split()
    assert len(keys) == 2
    assert stat.S_IMODE((state / "credentials").stat().st_mode) == 0o600
    session = demo.process.pid
    assert any("weed" in line for line in session_processes(session))
    assert demo.ctrl_c() == 130, "".join(demo.output)
    assert session_processes(session) == [], "".join(demo.output)
    transcript = "".join(demo.output)
    assert not any(key in transcript for key in keys)

    # A second start: same data, same credentials, and the examples are not put back.
    again = run_demo()
    assert "created bucket" not in "".join(again.output)
    assert again.token != demo.token
    kept = again.api("GET", "work/kept.ipynb")["content"]
    assert kept["cells"][0]["source"] == "# Edited before a restart"
    remaining = {path.name for path in (REPO / "examples" / "notebooks").iterdir()} - {"Files and folders.ipynb"}
    assert {item["name"] for item in again.api("GET", "examples")["content"]} == remaining
    assert (state / "credentials").read_text().split() == keys
    session = again.process.pid
    assert again.ctrl_c() == 130, "".join(again.output)
    assert session_processes(session) == [], "".join(again.output)
