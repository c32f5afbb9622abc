"""The shared store suite on real S3 servers (SeaweedFS and Ceph RGW), through the S3 and CORTX backends,
plus what only object stores show: markers, request counts, leftovers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage_hub import Store

from .conftest import S3Server, open_on
from .store_suite import StoreSuite

MiB = 2**20


class ObjectStoreSuite(StoreSuite):
    object_store = True
    protocol = "s3"

    @pytest.fixture
    def store(self, s3_server: S3Server, s3_url: str) -> Iterator[Store]:
        with open_on(self.protocol, s3_server, s3_url) as store:
            yield store

    @pytest.fixture
    def raw_keys(self, s3_server: S3Server, s3_url: str) -> Iterator[object]:
        client = s3_server.client()
        bucket, prefix = s3_url.split("/", 1)

        def keys() -> list[str]:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
            return sorted(o["Key"][len(prefix) + 1 :] for page in pages for o in page.get("Contents", []))

        yield keys
        client.close()

    def test_empty_folder_is_a_marker_and_files_write_none(self, store: Store, raw_keys) -> None:  # type: ignore[no-untyped-def]
        store.mkdir("empty")
        store.write_bytes("p/q/file.txt", b"x")
        assert raw_keys() == ["empty/", "p/q/file.txt"]

    def test_prefix_only_folder_made_by_another_tool(self, store: Store, s3_server: S3Server, s3_url: str) -> None:
        bucket, prefix = s3_url.split("/", 1)
        client = s3_server.client()
        client.put_object(Bucket=bucket, Key=f"{prefix}/other tool/x/y.csv", Body=b"1")
        client.close()
        assert [(e.name, e.type) for e in store.ls("")] == [("other tool", "directory")]
        assert [(e.name, e.type) for e in store.ls("other tool")] == [("x", "directory")]
        assert store.info("other tool/x").is_dir

    def test_deleted_and_moved_folders_vanish_from_listings(self, store: Store) -> None:
        """A folder that was deleted or moved away is gone from its parent's listing at once, on every server."""
        store.write_bytes("p/a/b/c.txt", b"1")
        store.write_bytes("p/x/y.txt", b"2")
        store.delete("p/a", recursive=True)
        store.move("p/x", "p/z")
        assert [e.name for e in store.ls("p")] == ["z"]

    def test_delete_and_move_leave_no_objects(self, store: Store, raw_keys) -> None:  # type: ignore[no-untyped-def]
        store.write_bytes("a/b/c.txt", b"1")
        store.mkdir("a/empty")
        store.move("a", "z")
        assert raw_keys() == ["z/", "z/b/c.txt", "z/empty/"] or raw_keys() == ["z/b/c.txt", "z/empty/"]
        store.delete("z", recursive=True)
        assert raw_keys() == []

    def test_listing_is_one_request_per_1000_entries(self, store: Store) -> None:
        self.fill(store, "wide", 2100)
        backend = store.aio.backend
        backend.requests.clear()
        entries = store.ls("wide")
        assert len(entries) == 2100
        assert dict(backend.requests) == {"ListObjectsV2": 3}

    def test_bulk_delete_uses_batches(self, store: Store) -> None:
        self.fill(store, "bulk", 2000)
        backend = store.aio.backend
        backend.requests.clear()
        store.delete("bulk", recursive=True)
        # 2,000 files in two batches of 1,000, then one request for the folder keys (deepest first).
        assert backend.requests["DeleteObjects"] == 3
        assert backend.requests["DeleteObject"] == 0
        assert backend.requests["ListObjectsV2"] <= 4

    def test_small_read_is_one_get_large_and_empty_reads_work(self, store: Store) -> None:
        store.write_bytes("small.txt", b"s" * 1000)
        store.write_bytes("large.bin", b"l" * (9 * MiB))
        backend = store.aio.backend
        backend.requests.clear()
        assert store.read_entry("small.txt")[1] == b"s" * 1000
        assert dict(backend.requests) == {"GetObject": 1}
        assert store.read_bytes("large.bin") == b"l" * (9 * MiB)
        store.write_bytes("zero.txt", b"")
        assert store.read_bytes("zero.txt") == b""

    def test_escape_sends_no_request(self, store: Store) -> None:
        backend = store.aio.backend
        backend.requests.clear()
        for bad in ("../x", "/abs", "a\x00"):
            with pytest.raises(ValueError):
                store.read_bytes(bad)
        assert sum(backend.requests.values()) == 0

    def test_streamed_write_uses_multipart_and_aborts_cleanly(self, store: Store, raw_keys) -> None:  # type: ignore[no-untyped-def]
        backend = store.aio.backend
        backend.requests.clear()
        with store.open("mp.bin", "wb") as f:
            f.write(b"m" * (40 * MiB))
        assert backend.requests["CreateMultipartUpload"] == 1
        assert backend.requests["CompleteMultipartUpload"] == 1
        with pytest.raises(RuntimeError), store.open("aborted.bin", "wb") as f:
            f.write(b"n" * (40 * MiB))
            raise RuntimeError
        assert backend.requests["AbortMultipartUpload"] == 1
        assert raw_keys() == ["mp.bin"]

    @staticmethod
    def fill(store: Store, folder: str, count: int) -> None:
        import asyncio

        async def go() -> None:
            sem = asyncio.Semaphore(32)

            async def put(i: int) -> None:
                async with sem:
                    await store.aio.write_bytes(f"{folder}/f{i:05}.txt", b"x")

            await asyncio.gather(*(put(i) for i in range(count)))

        asyncio.run(go())


class TestS3(ObjectStoreSuite):
    protocol = "s3"


class TestCortx(ObjectStoreSuite):
    """The CORTX backend (path-style, region US, no conditional writes, no UploadPartCopy) on the same servers."""

    protocol = "cortx"
