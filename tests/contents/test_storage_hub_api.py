"""storage-hub's own REST tests of StorageContentsManager, on every backend (see conftest.py's ``backend``).

What jupyter_server's suite does not cover: several checkpoints per file, checkpoints following renames and
deletes, chunked uploads into one atomic write, big folder renames, names kept exactly, requests per operation,
and bad input (broken notebooks, escapes, a store that goes away mid-session) answered with a clear status and
nothing lost.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nbformat import writes
from nbformat.v4 import new_code_cell, new_notebook
from tornado.httpclient import HTTPClientError

from storage_hub import Store

MiB = 2**20


def notebook_json(source: str) -> str:
    return writes(new_notebook(cells=[new_code_cell(source)]), version=4)


async def api(jp_fetch: Any, path: str, method: str = "GET", body: Any = None, **params: Any) -> Any:
    kwargs: dict[str, Any] = {"method": method, "params": {k: str(v) for k, v in params.items()}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    elif method in ("POST", "PUT", "PATCH"):
        kwargs["body"] = ""
    response = await jp_fetch("api", "contents", *[p for p in path.split("/") if p], **kwargs)
    return json.loads(response.body.decode()) if response.body else None


async def status_of(coro: Any) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as info:
        await coro
    body = json.loads(info.value.response.body.decode()) if info.value.response else {}
    return info.value.code, str(body.get("message", ""))


def requests(serverapp: Any) -> Any:
    """The S3 request counter of the server's store (None on local disk)."""
    return getattr(serverapp.contents_manager.store.backend, "requests", None)


# -- names ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["with space.ipynb", "unicodé 名前 😀.ipynb", "punct +&;$@%.ipynb"])
async def test_names_are_kept_exactly(jp_fetch: Any, store: Store, name: str) -> None:
    await api(jp_fetch, f"dir é/{name}", "PUT", {"type": "notebook", "content": json.loads(notebook_json("1"))})
    listing = await api(jp_fetch, "dir é")
    assert [m["name"] for m in listing["content"]] == [name]
    assert store.exists(f"dir é/{name}")
    await api(jp_fetch, f"dir é/{name}", "PATCH", {"path": f"dir é/renamed {name}"})
    assert [e.name for e in store.ls("dir é") if not e.name.startswith(".")] == [f"renamed {name}"]


# -- requests per operation ---------------------------------------------------------------------------------------
async def test_requests_per_operation(jp_fetch: Any, jp_serverapp: Any, store: Store) -> None:
    for i in range(30):
        store.write_text(f"nbs/n{i:02}.ipynb", notebook_json(str(i)))
    for i in range(3):
        store.mkdir(f"nbs/sub{i}")
    counter = requests(jp_serverapp)
    if counter is None:
        pytest.skip("request counts are an object-store property; local disk makes no requests")
    counter.clear()
    listing = await api(jp_fetch, "nbs")
    assert len(listing["content"]) == 33
    assert dict(counter) == {"ListObjectsV2": 1}
    counter.clear()
    model = await api(jp_fetch, "nbs/n00.ipynb")
    assert dict(counter) == {"GetObject": 1}
    await api(jp_fetch, "nbs/n00.ipynb", "PUT", {"type": "notebook", "content": model["content"]})
    counter.clear()
    saved = await api(jp_fetch, "nbs/n00.ipynb", "PUT", {"type": "notebook", "content": model["content"]})
    assert dict(counter) == {"PutObject": 1}
    counter.clear()
    await api(jp_fetch, "nbs/n00.ipynb/checkpoints", "POST")
    assert dict(counter) == {"CopyObject": 1}
    again = await api(jp_fetch, "nbs/n00.ipynb", content=0, hash=1)
    assert again["hash"] == saved["hash"]  # no false "File changed" dialog


# -- checkpoints --------------------------------------------------------------------------------------------------
async def test_several_checkpoints_oldest_first_and_restore_any(jp_fetch: Any, store: Store) -> None:
    # Oldest first, as JupyterLab expects: it takes the last one as the latest and offers them reversed.
    path = "cp/note book.ipynb"
    ids = []
    for version in ("v1", "v2", "v3"):
        await api(jp_fetch, path, "PUT", {"type": "notebook", "content": json.loads(notebook_json(version))})
        ids.append((await api(jp_fetch, f"{path}/checkpoints", "POST"))["id"])
    listed = await api(jp_fetch, f"{path}/checkpoints")
    assert [c["id"] for c in listed][-3:] == ids
    times = [c["last_modified"] for c in listed]
    assert times == sorted(times)
    await api(jp_fetch, f"{path}/checkpoints/{ids[0]}", "POST")
    restored = await api(jp_fetch, path)
    assert restored["content"]["cells"][0]["source"] == "v1"
    assert [m["name"] for m in (await api(jp_fetch, "cp"))["content"]] == ["note book.ipynb"]  # hidden
    assert store.exists(f"cp/.ipynb_checkpoints/note book.ipynb/{ids[0]}")  # kept in the same store
    code, _ = await status_of(api(jp_fetch, f"{path}/checkpoints/no-such-id", "POST"))
    assert code == 404


async def test_checkpoint_retention(jp_fetch: Any, jp_serverapp: Any) -> None:
    jp_serverapp.contents_manager.checkpoints.retention = 2
    await api(jp_fetch, "r.ipynb", "PUT", {"type": "notebook", "content": json.loads(notebook_json("x"))})
    made = [(await api(jp_fetch, "r.ipynb/checkpoints", "POST"))["id"] for _ in range(4)]
    listed = [c["id"] for c in await api(jp_fetch, "r.ipynb/checkpoints")]
    assert listed == made[-2:]  # the newest two, oldest first


async def test_checkpoints_follow_renames_and_deletes(jp_fetch: Any, store: Store) -> None:
    await api(jp_fetch, "a/x.ipynb", "PUT", {"type": "notebook", "content": json.loads(notebook_json("x"))})
    cp = await api(jp_fetch, "a/x.ipynb/checkpoints", "POST")
    await api(jp_fetch, "a/x.ipynb", "PATCH", {"path": "a/y.ipynb"})
    assert cp["id"] in [c["id"] for c in await api(jp_fetch, "a/y.ipynb/checkpoints")]
    assert await api(jp_fetch, "a/x.ipynb/checkpoints") == []
    await api(jp_fetch, "a", "PATCH", {"path": "b"})
    assert cp["id"] in [c["id"] for c in await api(jp_fetch, "b/y.ipynb/checkpoints")]
    await api(jp_fetch, "b/y.ipynb", "DELETE")
    assert [e.path for e in store.find("") if not e.is_dir] == []


# -- chunked uploads ----------------------------------------------------------------------------------------------
async def upload(jp_fetch: Any, path: str, data: bytes, chunk_size: int = MiB) -> AsyncIterator[int]:
    offsets = list(range(0, len(data), chunk_size))
    for number, offset in enumerate(offsets, start=1):
        chunk = -1 if number == len(offsets) else number
        body = {
            "type": "file",
            "format": "base64",
            "chunk": chunk,
            "content": base64.b64encode(data[offset : offset + chunk_size]).decode(),
        }
        await api(jp_fetch, path, "PUT", body)
        yield chunk


async def test_chunked_upload_of_100_mib(jp_fetch: Any, store: Store) -> None:
    data = os.urandom(100 * MiB)
    async for chunk in upload(jp_fetch, "up/big file.bin", data, chunk_size=4 * MiB):
        if chunk != -1:
            assert not store.exists("up/big file.bin")  # nothing at the path until the last chunk
    assert hashlib.sha256(store.read_bytes("up/big file.bin")).digest() == hashlib.sha256(data).digest()
    response = await jp_fetch("files", "up", "big file.bin")
    assert hashlib.sha256(response.body).digest() == hashlib.sha256(data).digest()


async def test_abandoned_upload_is_aborted(jp_fetch: Any, jp_serverapp: Any, store: Store) -> None:
    jp_serverapp.contents_manager.uploads.timeout = 0.3
    first = {"type": "file", "format": "base64", "chunk": 1, "content": base64.b64encode(b"a" * 100).decode()}
    await api(jp_fetch, "gone.bin", "PUT", first)
    assert "gone.bin" in jp_serverapp.contents_manager.uploads
    await asyncio.sleep(1.0)
    assert "gone.bin" not in jp_serverapp.contents_manager.uploads
    last = {"type": "file", "format": "base64", "chunk": -1, "content": base64.b64encode(b"b").decode()}
    code, message = await status_of(api(jp_fetch, "gone.bin", "PUT", last))
    assert code == 400 and "start it again" in message
    assert not store.exists("gone.bin")


async def test_chunks_without_a_first_append_to_the_file_at_the_end(jp_fetch: Any, store: Store) -> None:
    """As jupyter_server's LargeFileManager: a chunk other than 1 appends; unlike it, only the last one publishes."""
    store.write_bytes("o.bin", b"abc")
    body = {"type": "file", "format": "text", "chunk": 2, "content": "def"}
    await api(jp_fetch, "o.bin", "PUT", body)
    assert store.read_bytes("o.bin") == b"abc"
    await api(jp_fetch, "o.bin", "PUT", {**body, "chunk": -1, "content": "g"})
    assert store.read_bytes("o.bin") == b"abcdefg"


# -- folders ------------------------------------------------------------------------------------------------------
async def test_rename_and_copy_folder_of_500_files(jp_fetch: Any, jp_serverapp: Any, store: Store) -> None:
    async def fill() -> None:
        sem = asyncio.Semaphore(32)

        async def put(i: int) -> None:
            async with sem:
                await store.aio.write_bytes(f"big/sub{i % 5}/f{i}.txt", str(i).encode())

        await asyncio.gather(*(put(i) for i in range(500)))

    await fill()
    await api(jp_fetch, "big", "PATCH", {"path": "moved"})
    files = [e for e in store.find("") if not e.is_dir]
    assert len(files) == 500 and all(e.path.startswith("moved/") for e in files)
    copied = await api(jp_fetch, "", "POST", {"copy_from": "moved"})
    assert copied["name"] == "moved-Copy1" and copied["type"] == "directory"
    assert len([e for e in store.find("moved-Copy1") if not e.is_dir]) == 500


# -- bad input ----------------------------------------------------------------------------------------------------
async def test_invalid_notebook_json_is_refused_and_nothing_lost(jp_fetch: Any, store: Store) -> None:
    await api(jp_fetch, "keep.ipynb", "PUT", {"type": "notebook", "content": json.loads(notebook_json("kept"))})
    before = store.read_bytes("keep.ipynb")
    code, _ = await status_of(api(jp_fetch, "keep.ipynb", "PUT", {"type": "notebook", "content": {"cells": 5}}))
    assert code == 400
    assert store.read_bytes("keep.ipynb") == before
    store.write_bytes("broken.ipynb", b"{not json")
    code, message = await status_of(api(jp_fetch, "broken.ipynb"))
    assert code == 400 and "Unreadable Notebook" in message


@pytest.mark.parametrize("bad", ["../outside.txt", "a/../../b.txt"])
async def test_path_escapes_are_refused(jp_fetch: Any, bad: str) -> None:
    code, _ = await status_of(api(jp_fetch, bad, "PUT", {"type": "file", "format": "text", "content": "x"}))
    assert code in (400, 404)
    code, _ = await status_of(api(jp_fetch, bad))
    assert code in (400, 404)
