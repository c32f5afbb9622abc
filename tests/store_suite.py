"""The store test suite every backend passes.

A backend's test module subclasses :class:`StoreSuite` and supplies a ``store`` fixture (a fresh, empty store)
and, for object stores, ``raw_keys`` (the keys really on the server, to check markers and leftovers).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from storage_hub import (
    AlreadyExists,
    ChecksumMismatch,
    FolderNotEmpty,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
    PartialFailure,
    PermissionDenied,
    Store,
)

NAMES = [
    "plain.txt",
    "with space.txt",
    "unicodé ünïcode 名前.txt",
    "emoji 😀🚀.txt",
    "punct +&;$@%=,!'().txt",
    "  leading and trailing spaces  .txt",
]

ESCAPES = ["../x", "a/../../b", "/etc/passwd", "a/..", "a\x00b", "a\\..\\b", "a//b", "C:/x", "a\nb"]

MiB = 2**20


class StoreSuite:
    """Behaviour every backend must show. ``object_store`` backends have no real folders."""

    object_store = False

    # -- names and round trips --------------------------------------------------------------------------------
    @pytest.mark.parametrize("name", NAMES)
    def test_names_round_trip_exactly(self, store: Store, name: str) -> None:
        body = f"content of {name}".encode()
        store.write_bytes(f"dir with space/{name}", body)
        assert [e.name for e in store.ls("dir with space")] == [name]
        assert store.read_bytes(f"dir with space/{name}") == body
        assert store.info(f"dir with space/{name}").size == len(body)

    def test_ls_entries_have_metadata(self, store: Store) -> None:
        store.write_bytes("d/a.txt", b"abc")
        store.mkdir("d/sub")
        entries = {e.name: e for e in store.ls("d")}
        assert set(entries) == {"a.txt", "sub"}
        file, folder = entries["a.txt"], entries["sub"]
        assert (file.type, file.size, file.path) == ("file", 3, "d/a.txt")
        assert file.last_modified is not None and file.last_modified.tzinfo is not None
        assert (folder.type, folder.size, folder.path) == ("directory", 0, "d/sub")

    def test_write_returns_entry_and_read_entry_matches(self, store: Store) -> None:
        written = store.write_bytes("e/x.bin", b"12345")
        assert (written.path, written.type, written.size) == ("e/x.bin", "file", 5)
        assert written.last_modified is not None
        entry, data = store.read_entry("e/x.bin")
        assert data == b"12345" and (entry.path, entry.size) == ("e/x.bin", 5)
        assert entry.etag == written.etag
        assert abs((entry.last_modified - written.last_modified).total_seconds()) <= 2  # type: ignore[operator]
        with pytest.raises(IsAFolder):
            store.read_entry("e")

    def test_text_round_trip(self, store: Store) -> None:
        store.write_text("t/ünï.txt", "héllo\nwörld")
        assert store.read_text("t/ünï.txt") == "héllo\nwörld"

    def test_overwrite_replaces_content(self, store: Store) -> None:
        store.write_bytes("f.bin", b"one")
        store.write_bytes("f.bin", b"second")
        assert store.read_bytes("f.bin") == b"second"

    def test_ranged_read(self, store: Store) -> None:
        store.write_bytes("r.bin", bytes(range(100)))
        assert store.read_bytes("r.bin", 10, 20) == bytes(range(10, 20))
        assert store.read_bytes("r.bin", 95) == bytes(range(95, 100))
        assert store.read_bytes("r.bin", 100, 120) == b""

    def test_empty_file(self, store: Store) -> None:
        store.write_bytes("zero", b"")
        assert store.read_bytes("zero") == b""
        assert store.info("zero").type == "file"

    # -- folders ------------------------------------------------------------------------------------------------
    def test_empty_folder_is_listed(self, store: Store) -> None:
        store.mkdir("empty")
        assert store.ls("empty") == []
        assert [(e.name, e.type) for e in store.ls("")] == [("empty", "directory")]
        assert store.info("empty").is_dir
        with pytest.raises(AlreadyExists):
            store.mkdir("empty")
        store.mkdir("empty", exist_ok=True)

    def test_nested_files_imply_folders(self, store: Store) -> None:
        store.write_bytes("deep/a/b/c.txt", b"x")
        assert [(e.name, e.type) for e in store.ls("deep")] == [("a", "directory")]
        assert [(e.name, e.type) for e in store.ls("deep/a")] == [("b", "directory")]
        assert store.info("deep/a").is_dir
        assert store.exists("deep/a/b/c.txt")

    def test_missing_and_wrong_kind(self, store: Store) -> None:
        store.write_bytes("file.txt", b"x")
        store.mkdir("folder")
        assert not store.exists("nothing")
        with pytest.raises(NotFound):
            store.info("nothing")
        with pytest.raises(NotFound):
            store.ls("nothing")
        with pytest.raises(NotFound):
            store.read_bytes("nothing/inside.txt")
        with pytest.raises(NotAFolder):
            store.ls("file.txt")
        with pytest.raises(IsAFolder):
            store.read_bytes("folder")
        with pytest.raises(IsAFolder):
            store.open("folder")
        with pytest.raises(FileNotFoundError):  # the builtin works too
            store.read_bytes("nothing")

    def test_walk(self, store: Store) -> None:
        store.write_bytes("w/a.txt", b"1")
        store.write_bytes("w/x/b.txt", b"2")
        store.mkdir("w/empty")
        steps = {folder: (dirs, [e.name for e in files]) for folder, dirs, files in store.walk("w")}
        assert steps == {"w": (["empty", "x"], ["a.txt"]), "w/empty": ([], []), "w/x": ([], ["b.txt"])}

    # -- atomic and streamed writes ---------------------------------------------------------------------------
    def test_large_streamed_write_and_read(self, store: Store) -> None:
        data = os.urandom(64 * MiB)
        with store.open("big/blob.bin", "wb") as f:
            for start in range(0, len(data), 3 * MiB):
                f.write(data[start : start + 3 * MiB])
        assert store.info("big/blob.bin").size == len(data)
        with store.open("big/blob.bin") as f:
            head = f.read(MiB)
            f.seek(-10, os.SEEK_END)
            tail = f.read()
        assert head == data[:MiB] and tail == data[-10:]
        assert hashlib.sha256(store.read_bytes("big/blob.bin")).digest() == hashlib.sha256(data).digest()

    def test_interrupted_write_leaves_previous_version(self, store: Store) -> None:
        store.write_bytes("keep.txt", b"old")
        with pytest.raises(RuntimeError), store.open("keep.txt", "wb") as f:
            f.write(b"x" * (20 * MiB))
            raise RuntimeError("interrupted")
        assert store.read_bytes("keep.txt") == b"old"
        with pytest.raises(RuntimeError), store.open("new.txt", "wb") as f:
            f.write(b"partial")
            raise RuntimeError("interrupted")
        assert not store.exists("new.txt")
        assert [e.name for e in store.ls("")] == ["keep.txt"]

    def test_async_streamed_write_is_invisible_until_commit(self, store: Store) -> None:
        async def scenario() -> None:
            writer = await store.aio.open_write("stream.bin")
            await writer.write(b"a" * MiB)
            assert not await store.aio.exists("stream.bin")
            await writer.write(b"b" * MiB)
            await writer.commit()
            chunks = [c async for c in store.aio.iter_bytes("stream.bin", chunk_size=MiB // 2)]
            assert b"".join(chunks) == b"a" * MiB + b"b" * MiB

        asyncio.run(scenario())

    def test_write_with_md5_checks_the_bytes(self, store: Store) -> None:
        data = b"checked bytes"
        store.write_bytes("md5/ok.txt", data, md5=hashlib.md5(data).hexdigest())
        assert store.read_bytes("md5/ok.txt") == data
        store.write_bytes("md5/keep.txt", b"old")
        wrong = hashlib.md5(b"other bytes").hexdigest()
        for path in ("md5/keep.txt", "md5/new.txt"):
            with pytest.raises(ChecksumMismatch):
                store.write_bytes(path, data, md5=wrong)
        assert store.read_bytes("md5/keep.txt") == b"old"
        assert not store.exists("md5/new.txt")

    @pytest.mark.parametrize("size", [0, 5 * MiB + 3])
    def test_write_stream_is_checked_and_atomic(self, store: Store, size: int) -> None:
        data = os.urandom(size)
        md5 = hashlib.md5(data).hexdigest()

        async def chunks(body: bytes, failure: BaseException | None = None) -> AsyncIterator[bytes]:
            for start in range(0, len(body), MiB):
                yield body[start : start + MiB]
            if failure is not None:
                raise failure

        async def scenario() -> None:
            entry = await store.aio.write_stream("s/new.bin", chunks(data), size=size, md5=md5)
            assert (entry.path, entry.size) == ("s/new.bin", size)
            assert await store.aio.read_bytes("s/new.bin") == data
            await store.aio.write_bytes("s/keep.bin", b"old")
            wrong: list[tuple[bytes, str]] = [(data + b"x", md5), (data, hashlib.md5(b"other").hexdigest())]
            if size:
                wrong.append((data[: size // 2], md5))
            for body, checksum in wrong:
                for path in ("s/keep.bin", "s/absent.bin"):
                    with pytest.raises(ChecksumMismatch):
                        await store.aio.write_stream(path, chunks(body), size=size, md5=checksum)
            source_failure = NotFound("the source went away", "elsewhere.bin")
            with pytest.raises(NotFound, match="the source went away"):
                await store.aio.write_stream("s/absent.bin", chunks(data, source_failure), size=size + 1, md5=md5)
            assert await store.aio.read_bytes("s/keep.bin") == b"old"
            assert not await store.aio.exists("s/absent.bin")

        asyncio.run(scenario())

    def test_exclusive_write(self, store: Store) -> None:
        store.write_bytes("once.txt", b"first", overwrite=False)
        with pytest.raises(AlreadyExists):
            store.write_bytes("once.txt", b"second", overwrite=False)
        assert store.read_bytes("once.txt") == b"first"

    # -- copy, move, delete -------------------------------------------------------------------------------------
    def _tree(self, store: Store, root: str) -> None:
        store.write_bytes(f"{root}/a.txt", b"A")
        store.write_bytes(f"{root}/sub dir/b é.txt", b"B")
        store.mkdir(f"{root}/empty")

    def _snapshot(self, store: Store, root: str) -> dict[str, bytes | None]:
        return {
            e.path[len(root) + 1 :]: (None if e.is_dir else store.read_bytes(e.path))
            for e in store.find(root)
            if not (e.is_dir and e.path[len(root) + 1 :] == "sub dir")
        }

    def test_copy_file_and_folder(self, store: Store) -> None:
        self._tree(store, "src")
        store.copy("src/a.txt", "copy.txt")
        assert store.read_bytes("copy.txt") == b"A"
        seen: list[tuple[int, int]] = []
        store.copy("src", "dst", progress=lambda done, total: seen.append((done, total)))
        assert self._snapshot(store, "dst") == self._snapshot(store, "src")
        assert self._snapshot(store, "dst") == {"a.txt": b"A", "sub dir/b é.txt": b"B", "empty": None}
        assert seen[-1] == (2, 2)
        with pytest.raises(AlreadyExists):
            store.copy("src", "dst")
        with pytest.raises(InvalidPath):
            store.copy("src", "src/inside")

    def test_copy_file_without_checks(self, store: Store) -> None:
        store.write_bytes("c/a.txt", b"new")
        store.write_bytes("c/b.txt", b"old")
        asyncio.run(store.aio.copy_file("c/a.txt", "c/b.txt"))
        assert store.read_bytes("c/b.txt") == b"new"
        with pytest.raises(NotFound):
            asyncio.run(store.aio.copy_file("c/missing.txt", "c/x.txt"))

    def test_move_file_and_folder(self, store: Store) -> None:
        self._tree(store, "m")
        store.move("m/a.txt", "m/renamed.txt")
        assert not store.exists("m/a.txt") and store.read_bytes("m/renamed.txt") == b"A"
        store.move("m", "moved")
        assert not store.exists("m/renamed.txt") and not store.exists("m/sub dir/b é.txt")
        assert self._snapshot(store, "moved") == {"renamed.txt": b"A", "sub dir/b é.txt": b"B", "empty": None}
        store.write_bytes("other.txt", b"o")
        with pytest.raises(AlreadyExists):
            store.move("other.txt", "moved/renamed.txt")
        store.move("other.txt", "moved/renamed.txt", overwrite=True)
        assert store.read_bytes("moved/renamed.txt") == b"o"

    def test_failed_folder_move_is_rolled_back(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self._tree(store, "src")
        backend = store.aio.backend
        # Force the copy-then-delete path (local disk would rename), and make one copy fail.
        monkeypatch.setattr(backend, "capabilities", replace(backend.capabilities, atomic_rename=False))
        real_copy = backend.copy_file

        async def failing_copy(src: str, dst: str, size: int | None = None) -> None:
            if src.endswith("b é.txt"):
                raise PermissionDenied("injected failure", src)
            await real_copy(src, dst, size)

        monkeypatch.setattr(backend, "copy_file", failing_copy)
        before = self._snapshot(store, "src")
        with pytest.raises(PartialFailure, match="every source was kept") as info:
            store.move("src", "dst")
        assert [p.rpartition("/")[2] for p in info.value.failed] == ["b é.txt"]
        assert self._snapshot(store, "src") == before
        assert not store.exists("dst/a.txt")
        if store.exists("dst"):  # SeaweedFS shows a deleted prefix as a folder for a while
            assert store.find("dst") == []

    def test_delete(self, store: Store) -> None:
        self._tree(store, "d")
        store.delete("d/a.txt")
        assert not store.exists("d/a.txt")
        with pytest.raises(FolderNotEmpty):
            store.delete("d")
        with pytest.raises(OSError):  # the builtin works too
            store.delete("d")
        store.delete("d/empty")
        store.delete("d", recursive=True)
        assert not store.exists("d/sub dir/b é.txt")
        assert store.find("") == []
        with pytest.raises(NotFound):
            store.delete("d/a.txt")
        store.delete("d/a.txt", missing_ok=True)
        with pytest.raises(InvalidPath):
            store.delete("", recursive=True)

    def test_bulk_delete_of_2000_files(self, store: Store) -> None:
        async def fill() -> None:
            sem = asyncio.Semaphore(32)

            async def put(i: int) -> None:
                async with sem:
                    await store.aio.write_bytes(f"many/{i // 100}/f{i}.txt", b"x")

            await asyncio.gather(*(put(i) for i in range(2000)))

        asyncio.run(fill())
        assert len([e for e in store.find("many") if not e.is_dir]) == 2000
        store.delete("many", recursive=True)
        assert store.find("") == []

    # -- paths ----------------------------------------------------------------------------------------------------
    @pytest.mark.parametrize("bad", ESCAPES)
    def test_escapes_are_refused(self, store: Store, bad: str) -> None:
        for operation in (
            lambda: store.read_bytes(bad),
            lambda: store.write_bytes(bad, b"x"),
            lambda: store.ls(bad),
            lambda: store.delete(bad, recursive=True),
            lambda: store.copy("x", bad),
            lambda: store.mkdir(bad),
        ):
            with pytest.raises(InvalidPath):
                operation()
        with pytest.raises(ValueError):  # the builtin works too
            store.info(bad)

    # -- event loops ------------------------------------------------------------------------------------------------
    def test_sync_api_inside_a_running_loop(self, store: Store) -> None:
        """A Jupyter kernel runs cells inside an event loop; the blocking API must still work there."""

        async def cell() -> bytes:
            store.write_bytes("k.txt", b"kernel")
            return store.read_bytes("k.txt")

        assert asyncio.run(cell()) == b"kernel"

    def test_async_api_does_not_block_the_callers_loop(self, store: Store) -> None:
        store.write_bytes("slow.bin", os.urandom(8 * MiB))

        async def scenario() -> int:
            ticks = 0
            stop = asyncio.Event()

            async def ticker() -> None:
                nonlocal ticks
                while not stop.is_set():
                    ticks += 1
                    await asyncio.sleep(0)

            task = asyncio.create_task(ticker())
            for _ in range(5):
                await store.aio.read_bytes("slow.bin")
            stop.set()
            await task
            return ticks

        assert asyncio.run(scenario()) > 5

    def test_usable_from_many_threads(self, store: Store) -> None:
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                store.write_bytes(f"threads/{i}.txt", str(i).encode())
                assert store.read_bytes(f"threads/{i}.txt") == str(i).encode()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(store.ls("threads")) == 8
