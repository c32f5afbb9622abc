"""Fixtures of the end-to-end tests: JupyterLab in headless Chromium, on StorageContentsManager, on a real S3.

All of them but ``page`` and ``shot`` live as long as the module: Playwright's sync API leaves its event loop
marked as running in the main thread while it is started, which the rest of the suite must not inherit.

- ``s3``: a SeaweedFS of its own (not the shared one of ``tests/conftest.py``: a test stops and restarts it),
  started with ``scripts/seaweedfs.sh`` on a free port; ``bucket``: a bucket on it made with boto3.
- ``lab``: the real ``storage-hub lab s3://BUCKET/ ...`` command, with its own HOME and Jupyter folders, the
  token in JUPYTER_TOKEN and the keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
- ``page``: a fresh browser context per test on its own JupyterLab workspace, ready when the file browser is.
- ``shot(name)``: a screenshot ``NN-name.png`` in ``.state/e2e-artifacts/<test>/``. The folder is kept, with a
  screenshot of the final state, the browser console and the server's log, when the test fails (its path and the
  server log's tail are added to the failure report); it is deleted when the test passes.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright's sync API; nothing is downloaded.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from ..processes import free_port
from .servers import REPO, JupyterLab, SeaweedFS, tail
from .ui import wait_for_lab

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / ".state" / "e2e-artifacts"
BUCKET = "e2e-lab"

#: Where the page fixture leaves what a failure report shows.
ARTIFACTS_KEY = pytest.StashKey["Artifacts"]()
REPORTS_KEY = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Record each phase's report on the item (the page fixture keeps the artifacts of a failed test), and add
    the artifacts' folder and the server's log to the report of a failure."""
    report: pytest.TestReport = yield
    item.stash.setdefault(REPORTS_KEY, {})[report.when] = report
    artifacts = item.stash.get(ARTIFACTS_KEY, None)
    if report.failed and artifacts is not None:
        report.sections.append(("e2e artifacts", f"screenshots, console and server log in {artifacts.folder}"))
        report.sections.append(("storage-hub lab log (tail)", tail(artifacts.lab.log, 40)))
        report.sections.append(("SeaweedFS log (tail)", tail(artifacts.lab.s3.log, 15)))
    return report


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """A dedicated SeaweedFS; stopped at the end whatever happened (also after a test stopped it)."""
    server = SeaweedFS(state=tmp_path_factory.mktemp("e2e-seaweedfs") / "state", port=free_port())
    try:
        for attempt in range(3):
            try:
                server.start()
                break
            except RuntimeError:
                # weed mini takes other free ports for its master, volume, filer and admin when the usual ones are
                # taken, and two instances starting at the same moment can pick the same one: on a machine that
                # runs other SeaweedFS instances, try again on another port.
                server.stop()
                if attempt == 2:
                    raise
                server.port = free_port()
        yield server
    finally:
        server.stop()
    assert not server.running, f"SeaweedFS is still running after stop: see {server.log}"


@pytest.fixture(scope="module")
def bucket(s3: SeaweedFS) -> str:
    client = s3.client()
    client.create_bucket(Bucket=BUCKET)
    client.close()
    return BUCKET


@pytest.fixture(scope="module")
def lab(s3: SeaweedFS, bucket: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """``storage-hub lab`` on the bucket; at the end SIGTERM, SIGKILL if needed, and nothing may be left."""
    server = JupyterLab(s3=s3, bucket=bucket, root=tmp_path_factory.mktemp("e2e-lab"), token=secrets.token_hex(16))
    try:
        server.start()
        yield server
    finally:
        left = server.stop()
    assert not left, f"processes left by storage-hub lab (killed now): {left}\n{tail(server.log)}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Artifacts:
    """The screenshots of one test, numbered in order, and what is kept if it fails."""

    folder: Path
    lab: JupyterLab
    page: Page | None = None
    count: int = 0
    console: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        assert self.page is not None
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        self.page.screenshot(path=str(path))
        return path

    def keep(self) -> None:
        """What a failure leaves behind: the final state, the browser console and the server's log."""
        try:
            self.shot("failure")
        except PlaywrightError as e:  # the page may be what broke; the rest is still worth keeping
            (self.folder / "failure-screenshot-error.txt").write_text(repr(e))
        (self.folder / "console.txt").write_text("\n".join(self.console))
        shutil.copy(self.lab.log, self.folder / "jupyterlab.log")
        print(f"\ne2e artifacts kept in {self.folder}")


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Browser, lab: JupyterLab) -> Iterator[Page]:
    """A new browser context (1400x900) on JupyterLab, in a workspace of this test's own, file browser listed."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    artifacts = Artifacts(folder=folder, lab=lab)
    request.node.stash[ARTIFACTS_KEY] = artifacts
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US", accept_downloads=True)
    context.set_default_timeout(30_000)
    page = artifacts.page = context.new_page()
    page.on("console", lambda message: artifacts.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: artifacts.console.append(f"pageerror: {error}"))
    # A workspace per test: what one test leaves open (tabs, the file browser's folder) is not restored in another.
    workspace = f"e2e-{secrets.token_hex(4)}"
    try:
        page.goto(f"{lab.url}/lab/workspaces/{workspace}?token={lab.token}")
        wait_for_lab(page)
        yield page
    finally:
        reports = request.node.stash.get(REPORTS_KEY, {})
        failed = not reports or any(r.failed for r in reports.values())
        if failed:
            artifacts.keep()
        context.close()
        if not failed:
            shutil.rmtree(folder, ignore_errors=True)
        lab.shut_down_kernels()


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """``shot(name)`` saves ``NN-name.png`` of the page in this test's artifacts folder."""
    artifacts: Artifacts = request.node.stash[ARTIFACTS_KEY]
    return artifacts.shot
