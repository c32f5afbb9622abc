"""JupyterLab 4 in headless Chromium on StorageContentsManager on a real SeaweedFS: what a user does, end to end.

Each test clicks and types as a user would and then checks two things: what JupyterLab shows, and what is in the
bucket (read with boto3, not through storage-hub). The bucket is filled once, with boto3, before the first test;
each test works in its own folder of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import Page, expect

from .servers import SeaweedFS
from .ui import (
    breadcrumbs,
    cell_editor,
    context_menu,
    current_tab,
    dialog,
    item,
    listing,
    menu,
    no_dialog_within,
    notebook,
    open_folder,
    open_notebook,
    poll,
    run_cell,
    save_with_keyboard,
    set_cell,
    wait_for_lab,
    wait_notebook,
    wait_saved,
)

Shot = Callable[[str], Path]

MiB = 1024 * 1024
#: A folder made by another S3 tool (rclone, aws s3 cp): keys under a prefix, no ``prefix/`` marker object.
FOREIGN = "exported-by-rclone"
#: A checkpoint of revert/versions.ipynb from an earlier session, as the store keeps them.
OLD_CHECKPOINT = "revert/.ipynb_checkpoints/versions.ipynb/20200101T000000000000Z-e2e0"
RENAME_COUNT = 50


def notebook_bytes(*sources: str) -> bytes:
    nb = new_notebook(cells=[new_code_cell(source) for source in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    return nbformat.writes(nb).encode()


def seed_objects() -> dict[str, bytes]:
    """Every object the tests start from, by key."""
    objects = {
        # 1. the root, a folder made by JupyterLab (with its marker) and one made by another tool (without)
        "welcome.ipynb": notebook_bytes("print('welcome')"),
        "projects/": b"",
        "projects/plan.ipynb": notebook_bytes("plan = []"),
        f"{FOREIGN}/notes.txt": b"written by another S3 tool\n",
        f"{FOREIGN}/raw/2024-01.csv": b"day,value\n1,3.5\n",
        # 2. run, edit, save, reload
        "editing/analysis.ipynb": notebook_bytes("print(6 * 7)", "answer = 42"),
        # 3. checkpoints
        "revert/versions.ipynb": notebook_bytes("version = 0"),
        OLD_CHECKPOINT: notebook_bytes("version = -1"),
        # 5. upload and download
        "transfers/": b"",
        # 6. the store going away
        "outage/draft.ipynb": notebook_bytes("draft = 1"),
    }
    # 4. a folder rename: 50 objects, no marker
    objects.update({f"to-rename/file-{i:02d}.txt": f"file {i}\n".encode() for i in range(RENAME_COUNT)})
    return objects


@pytest.fixture(scope="module", autouse=True)
def seeded(s3: SeaweedFS, bucket: str) -> None:
    client = s3.client()
    for key, body in seed_objects().items():
        client.put_object(Bucket=bucket, Key=key, Body=body)
    client.close()


@pytest.fixture
def client(s3: SeaweedFS) -> Iterator[Any]:
    """boto3 on the e2e SeaweedFS (made per test: the server may have been restarted since)."""
    s3_client = s3.client()
    yield s3_client
    s3_client.close()


def keys(client: Any, bucket: str, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def read(client: Any, bucket: str, key: str) -> bytes:
    body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def sources(client: Any, bucket: str, key: str) -> list[str]:
    """The cell sources of the notebook stored at ``key``."""
    cells = json.loads(read(client, bucket, key))["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def stored_sources(client: Any, bucket: str, key: str, expected: list[str], timeout: float = 30) -> list[str]:
    """Wait until the notebook at ``key`` holds ``expected``: a save is done when its PUT is."""
    return poll(f"{key} to hold {expected}", lambda: sources(client, bucket, key) == expected or None, timeout)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(MiB):
            digest.update(block)
    return digest.hexdigest()


# -- 1 ------------------------------------------------------------------------------------------------------------
def test_file_browser_lists_the_bucket(page: Page, shot: Shot, client: Any, bucket: str) -> None:
    assert keys(client, bucket, FOREIGN) == [f"{FOREIGN}/notes.txt", f"{FOREIGN}/raw/2024-01.csv"]  # no marker
    expect(item(page, FOREIGN)).to_be_visible()
    shot("root")
    names = listing(page)
    assert {"welcome.ipynb", "projects", FOREIGN, "editing", "revert", "to-rename", "transfers", "outage"} <= set(
        names
    ), names
    assert ".ipynb_checkpoints" not in names  # hidden
    for folder in ("projects", FOREIGN):
        expect(item(page, folder)).to_have_attribute("data-isdir", "true")
    expect(item(page, "welcome.ipynb")).to_have_attribute("data-file-type", "notebook")

    open_folder(page, FOREIGN)
    expect(item(page, "notes.txt")).to_be_visible()
    assert sorted(listing(page)) == ["notes.txt", "raw"]
    expect(item(page, "raw")).to_have_attribute("data-isdir", "true")  # a folder inside it, no marker either
    expect(breadcrumbs(page)).to_contain_text(FOREIGN)
    shot("foreign-folder")

    item(page, "notes.txt").dblclick()
    editor = page.locator("#jp-main-dock-panel .jp-FileEditor .cm-content")
    expect(editor).to_have_text("written by another S3 tool")
    expect(current_tab(page)).to_contain_text("notes.txt")
    shot("file-opened")


# -- 2 ------------------------------------------------------------------------------------------------------------
def test_run_edit_save_reload(page: Page, shot: Shot, client: Any, bucket: str) -> None:
    key = "editing/analysis.ipynb"
    open_folder(page, "editing")
    panel = open_notebook(page, "analysis.ipynb")
    shot("opened")

    output = run_cell(page, panel, 0)
    expect(output).to_have_text("42")
    first_edit = "answer = 43  # first edit"
    set_cell(page, panel, 1, first_edit)
    save_with_keyboard(page, panel, 1)
    wait_saved(page)
    stored_sources(client, bucket, key, ["print(6 * 7)", first_edit])
    stored = json.loads(read(client, bucket, key))
    assert "".join(stored["cells"][0]["outputs"][0]["text"]) == "42\n"  # the output is saved too
    shot("saved")

    page.reload()
    wait_for_lab(page)
    if notebook(page).count() == 0:  # the workspace normally reopens it
        open_notebook(page, "analysis.ipynb")
    panel = wait_notebook(page, "analysis.ipynb")
    expect(cell_editor(panel, 1)).to_have_text(first_edit)
    expect(panel.locator(".jp-Cell").first.locator(".jp-OutputArea-output")).to_have_text("42")
    shot("reloaded")

    # A second save of the same file: JupyterLab first checks the file did not change on the server since it
    # was loaded; a wrong time or hash there shows a "File Changed" dialog and the save waits for the user.
    second_edit = "answer = 44  # second edit"
    set_cell(page, panel, 1, second_edit)
    save_with_keyboard(page, panel, 1)
    no_dialog_within(page, 3)
    wait_saved(page)
    stored_sources(client, bucket, key, ["print(6 * 7)", second_edit])
    shot("saved-again")


# -- 3 ------------------------------------------------------------------------------------------------------------
def test_revert_to_an_older_checkpoint(page: Page, shot: Shot, client: Any, bucket: str) -> None:
    key = "revert/versions.ipynb"
    folder = "revert/.ipynb_checkpoints/versions.ipynb/"
    open_folder(page, "revert")
    panel = open_notebook(page, "versions.ipynb")
    version_a, version_b = "version = 1  # A", "version = 2  # B"

    def checkpoint_holding(source: str) -> str | None:
        found = [k for k in keys(client, bucket, folder) if sources(client, bucket, k) == [source]]
        return found[0] if found else None

    for version in (version_a, version_b):  # each Ctrl-S saves, then makes a checkpoint of what it saved
        set_cell(page, panel, 0, version)
        save_with_keyboard(page, panel)
        wait_saved(page)
        stored_sources(client, bucket, key, [version])
        poll(f"a checkpoint holding {version!r}", lambda v=version: checkpoint_holding(v))
    shot("saved-a-then-b")
    checkpoint_a = checkpoint_holding(version_a)
    assert checkpoint_a is not None
    ids = [k.removeprefix(folder) for k in keys(client, bucket, folder)]
    assert len(ids) == 3 and OLD_CHECKPOINT.removeprefix(folder) in ids, ids

    menu(page, "File", "docmanager:restore-checkpoint")
    chooser = dialog(page)
    expect(chooser.locator(".jp-Dialog-header")).to_have_text("Choose a checkpoint")
    options = chooser.locator("select option").all_inner_texts()
    shot("choose-checkpoint")
    # Newest first, each "N. <time> (<how long ago>)": the checkpoint from 2020 is the last one.
    assert len(options) == 3, options
    assert [o.split(".", 1)[0] for o in options] == ["0", "1", "2"], options
    assert "year" in options[2] and not any("year" in o for o in options[:2]), options
    newest_first = sorted(ids, reverse=True)
    chosen = newest_first.index(checkpoint_a.removeprefix(folder))
    assert chosen == 1, (newest_first, checkpoint_a)  # A: older than B, newer than the one from 2020
    chooser.locator("select").select_option(index=chosen)
    chooser.locator(".jp-Dialog-button.jp-mod-accept").click()

    confirm = page.locator(".jp-Dialog", has=page.locator(".jp-Dialog-header", has_text="to checkpoint"))
    expect(confirm).to_be_visible()
    shot("confirm-revert")
    confirm.locator(".jp-Dialog-button", has_text="Revert").click()
    expect(dialog(page)).to_have_count(0)
    expect(cell_editor(panel, 0)).to_have_text(version_a)
    shot("reverted")

    save_with_keyboard(page, panel)
    no_dialog_within(page, 2)
    wait_saved(page)
    stored_sources(client, bucket, key, [version_a])


# -- 4 ------------------------------------------------------------------------------------------------------------
def test_rename_a_folder_of_50_files(page: Page, shot: Shot, client: Any, bucket: str) -> None:
    old, new = "to-rename", "renamed-50"
    expected = {f"file-{i:02d}.txt" for i in range(RENAME_COUNT)}
    assert {k.removeprefix(f"{old}/") for k in keys(client, bucket, f"{old}/")} == expected

    context_menu(page, old, "filebrowser:rename")
    name_editor = page.locator(".jp-FileBrowser .jp-DirListing-editor")
    expect(name_editor).to_be_visible()
    shot("renaming")
    name_editor.fill(new)
    name_editor.press("Enter")

    expect(item(page, new)).to_be_visible()

    def moved() -> set[str] | None:
        names = {k.removeprefix(f"{new}/") for k in keys(client, bucket, f"{new}/")} - {""}  # "": a marker
        return names if len(names) >= RENAME_COUNT else None

    assert poll(f"{RENAME_COUNT} files under {new}/", moved) == expected
    assert keys(client, bucket, f"{old}/") == []  # nothing stays behind, not even a marker
    for i in (0, 17, RENAME_COUNT - 1):
        assert read(client, bucket, f"{new}/file-{i:02d}.txt") == f"file {i}\n".encode()
    expect(item(page, old)).to_have_count(0)
    shot("renamed")

    open_folder(page, new)
    expect(page.locator(".jp-FileBrowser .jp-DirListing-item")).to_have_count(RENAME_COUNT)
    assert set(listing(page)) == expected
    shot("renamed-folder-opened")


# -- 5 ------------------------------------------------------------------------------------------------------------
def test_upload_and_download_40_mib(page: Page, shot: Shot, client: Any, bucket: str, tmp_path: Path) -> None:
    name = "random-40MiB.bin"
    source = tmp_path / name
    with source.open("wb") as f:
        for _ in range(40):
            f.write(os.urandom(MiB))
    digest = sha256_file(source)
    open_folder(page, "transfers")

    with page.expect_file_chooser() as chooser:
        page.locator(".jp-FileBrowser [data-jp-item-name='uploader'] button").click()
    chooser.value.set_files(str(source))
    warning = dialog(page)
    expect(warning.locator(".jp-Dialog-header")).to_have_text("Large file size warning")
    shot("large-file-warning")
    warning.locator(".jp-Dialog-button.jp-mod-accept").click()

    # Files over 15 MB go up in 1 MiB chunks; nothing is at the key before the last one has arrived.
    size = poll(
        f"transfers/{name} in the bucket",
        lambda: client.head_object(Bucket=bucket, Key=f"transfers/{name}")["ContentLength"],
        timeout=180,
    )
    assert size == 40 * MiB
    expect(page.locator(".jp-StatusBar-Item", has_text="Uploading")).to_be_hidden(timeout=60_000)
    expect(item(page, name)).to_be_visible()
    shot("uploaded")
    stored = hashlib.sha256()
    for block in client.get_object(Bucket=bucket, Key=f"transfers/{name}")["Body"].iter_chunks(MiB):
        stored.update(block)
    assert stored.hexdigest() == digest

    with page.expect_download(timeout=120_000) as download_info:
        context_menu(page, name, "filebrowser:download")
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == name
    downloaded = Path(download.path())
    assert downloaded.stat().st_size == 40 * MiB
    assert sha256_file(downloaded) == digest
    shot("downloaded")


# -- 6 ------------------------------------------------------------------------------------------------------------
def test_store_stops_and_comes_back(page: Page, shot: Shot, s3: SeaweedFS, bucket: str) -> None:
    key = "outage/draft.ipynb"
    open_folder(page, "outage")
    panel = open_notebook(page, "draft.ipynb")
    edit = "draft = 2  # written while the store was down"
    try:
        s3.stop()
        set_cell(page, panel, 0, edit)
        save_with_keyboard(page, panel)
        error = dialog(page)
        expect(error).to_be_visible(timeout=60_000)  # after the client's retries
        shot("save-error")
        header = error.locator(".jp-Dialog-header").inner_text()
        body = error.locator(".jp-Dialog-body").inner_text()
        assert header == "File Save Error for draft.ipynb", header
        # What the contents manager answers (503): what is wrong and what to check, in one sentence.
        assert body == (
            f"cannot reach S3 endpoint {s3.endpoint}: check endpoint_url and that the server is running and reachable"
        ), body
        error.locator(".jp-Dialog-button", has_text="Close").click()
        expect(dialog(page)).to_have_count(0)
        expect(cell_editor(panel, 0)).to_have_text(edit)  # the edit is still in the browser, unsaved
        expect(current_tab(page)).to_have_class(re.compile(r"\bjp-mod-dirty\b"))
    finally:
        if not s3.running:
            s3.start()

    client = s3.client()
    try:
        assert sources(client, bucket, key) == ["draft = 1"]  # the failed save wrote nothing
        save_with_keyboard(page, panel)
        # SeaweedFS may hold the first write after its restart for ~20 s (the answer's Date header says so): the
        # save waits, JupyterLab shows no error, and it goes through.
        wait_saved(page, timeout=90)
        stored_sources(client, bucket, key, [edit])
        shot("saved-after-restart")
    finally:
        client.close()
