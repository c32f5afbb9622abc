"""Whole objects moved in parallel parts: ranged reads straight into the result, multipart writes of memoryview
slices. Byte-exactness around part boundaries, request counts, and what failures leave behind, on SeaweedFS
(faults injected through botocore's events on the store's blocking client)."""

from __future__ import annotations

import asyncio
import io
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import IncompleteReadError

from storage_hub import AlreadyExists, PermissionDenied, StorageError, Store
from storage_hub.backends import s3_transfer
from storage_hub.backends.s3 import THREAD_TRANSFER, S3Backend
from storage_hub.backends.s3_transfer import BytesBuffer, read_body_into, run_parts, whole_part_size

from .conftest import S3Server, open_on

MiB = 2**20


# -- plain functions, no server --------------------------------------------------------------------------------
def test_part_size_follows_the_object_and_the_limits() -> None:
    assert whole_part_size(512 * MiB, 8 * MiB) == s3_transfer.WRITE_PART
    assert whole_part_size(40 * MiB, 8 * MiB) == 10 * MiB  # one part per stream
    assert whole_part_size(11 * MiB, 5 * MiB) == 5 * MiB  # never below the store's part_size
    huge = 2**40
    assert -(-huge // whole_part_size(huge, 8 * MiB)) <= s3_transfer.MAX_PARTS


@pytest.mark.parametrize("size", [0, 1, 3 * MiB + 7])
def test_bytes_buffer_gives_exactly_bytes(size: int) -> None:
    data = os.urandom(size)
    buffer = BytesBuffer(size)
    buffer.view[: size // 2] = data[: size // 2]
    buffer.view[size // 2 :] = data[size // 2 :]
    result = buffer.result()
    assert type(result) is bytes
    assert result == data
    assert hash(result) == hash(data)


class _Body:
    """A streaming body without urllib3 underneath: read in chunks."""

    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        return self._file.read(n)

    def close(self) -> None:
        self.closed = True


def test_read_body_into_without_urllib3_and_a_short_body() -> None:
    data = os.urandom(3 * MiB + 5)
    view = memoryview(bytearray(len(data)))
    read_body_into(_Body(data), view)
    assert view.tobytes() == data
    short = _Body(data[:100])
    with pytest.raises(IncompleteReadError):
        read_body_into(short, memoryview(bytearray(200)))
    assert short.closed


def test_run_parts_bounds_and_stops_at_the_first_failure() -> None:
    running = peak = 0
    started: list[int] = []
    finished: list[int] = []

    def job(i: int) -> Callable[[], Any]:
        async def run() -> None:
            nonlocal running, peak
            started.append(i)
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.05 if i != 2 else 0.01)
            running -= 1
            if i == 2:
                raise ValueError("part 2")
            finished.append(i)

        return run

    with pytest.raises(ValueError, match="part 2"):
        asyncio.run(run_parts((job(i) for i in range(10)), 3))
    assert peak <= 3
    assert started == [0, 1, 2]  # nothing more started once part 2 failed
    assert set(finished) == set(started) - {2}  # those running were waited for


# -- on SeaweedFS ------------------------------------------------------------------------------------------------
@pytest.fixture
def store(seaweedfs: S3Server, s3_url: str) -> Iterator[Store]:
    with open_on("s3", seaweedfs, s3_url, part_size=5 * MiB, multipart_threshold=5 * MiB) as store:
        yield store


@pytest.fixture
def raw(seaweedfs: S3Server, s3_url: str) -> Iterator[tuple[Any, str, str]]:
    """A boto3 client, the bucket and the prefix of the store."""
    client = seaweedfs.client()
    bucket, prefix = s3_url.split("/", 1)
    yield client, bucket, prefix
    client.close()


def backend(store: Store) -> S3Backend:
    b = store.aio.backend
    assert isinstance(b, S3Backend)
    return b


def leftovers(raw: tuple[Any, str, str]) -> tuple[list[str], list[str]]:
    """The keys under the prefix, and the multipart uploads still open there."""
    client, bucket, prefix = raw
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix + "/").get("Contents", [])]
    uploads = [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket, Prefix=prefix + "/").get("Uploads", [])]
    return keys, uploads


def reply(request: Any, status: int, code: str) -> AWSResponse:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>injected</Message></Error>'

    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield body.encode()

    return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, Raw())


@pytest.mark.parametrize("extra", [-1, 0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 12345], ids=lambda n: f"8MiB{n:+d}")
def test_whole_read_in_ranges_is_byte_exact(
    store: Store, raw: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch, extra: int
) -> None:
    """Sizes around the first GET's length and the range boundaries (1 MiB ranges here); written by boto3."""
    monkeypatch.setattr(s3_transfer, "READ_PART", MiB)
    size = THREAD_TRANSFER + extra
    data = os.urandom(size)
    client, bucket, prefix = raw
    client.put_object(Bucket=bucket, Key=f"{prefix}/r.bin", Body=data)
    backend(store).requests.clear()
    read = store.read_bytes("r.bin")
    assert type(read) is bytes
    assert read == data
    ranges = -(-(size - THREAD_TRANSFER) // MiB) if size > THREAD_TRANSFER else 0
    assert dict(backend(store).requests) == {"GetObject": 1 + ranges}


def test_read_of_an_object_replaced_meanwhile_reads_one_version(
    store: Store, raw: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_transfer, "READ_PART", MiB)
    client, bucket, prefix = raw
    old, new = os.urandom(12 * MiB), os.urandom(12 * MiB)
    client.put_object(Bucket=bucket, Key=f"{prefix}/v.bin", Body=old)
    replaced = threading.Event()
    lock = threading.Lock()

    def replace_once(**_: Any) -> None:
        with lock:
            if not replaced.is_set():
                client.put_object(Bucket=bucket, Key=f"{prefix}/v.bin", Body=new)
                replaced.set()

    backend(store)._blocking_client().meta.events.register("before-call.s3.GetObject", replace_once)
    backend(store).requests.clear()
    assert store.read_bytes("v.bin") == new  # the ranges saw another ETag: one plain GET read the new version
    assert backend(store).requests["GetObject"] >= 3


def test_whole_write_in_parallel_parts(
    store: Store, raw: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_transfer, "WRITE_PART", 5 * MiB)
    data = os.urandom(23 * MiB + 3)
    entry = store.write_bytes("w.bin", data)
    assert dict(backend(store).requests) == {"CreateMultipartUpload": 1, "UploadPart": 5, "CompleteMultipartUpload": 1}
    client, bucket, prefix = raw
    assert client.get_object(Bucket=bucket, Key=f"{prefix}/w.bin")["Body"].read() == data
    head = client.head_object(Bucket=bucket, Key=f"{prefix}/w.bin")
    assert entry.size == len(data)
    assert entry.etag == head["ETag"].strip('"')
    assert leftovers(raw) == ([f"{prefix}/w.bin"], [])


@pytest.mark.parametrize(("status", "code"), [(403, "AccessDenied"), (400, "InvalidPart")])
def test_a_failing_part_aborts_the_upload_and_keeps_the_old_object(
    store: Store, raw: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch, status: int, code: str
) -> None:
    monkeypatch.setattr(s3_transfer, "WRITE_PART", 5 * MiB)
    store.write_bytes("w.bin", b"old")

    def fail_part_3(request: Any, **_: Any) -> AWSResponse | None:
        return reply(request, status, code) if "partNumber=3" in request.url else None

    backend(store)._blocking_client().meta.events.register("before-send.s3.UploadPart", fail_part_3)
    backend(store).requests.clear()
    # Translated by the backend's one error table, like any other request's failure.
    with pytest.raises(
        PermissionDenied if code == "AccessDenied" else StorageError, match=code if status == 400 else None
    ):
        store.write_bytes("w.bin", os.urandom(23 * MiB))
    assert backend(store).requests["AbortMultipartUpload"] == 1
    assert backend(store).requests["CompleteMultipartUpload"] == 0
    assert store.read_bytes("w.bin") == b"old"
    prefix = raw[2]
    assert leftovers(raw) == ([f"{prefix}/w.bin"], [])


def test_a_new_object_that_fails_leaves_nothing(
    store: Store, raw: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_transfer, "WRITE_PART", 5 * MiB)

    def fail(request: Any, **_: Any) -> AWSResponse | None:
        return reply(request, 403, "AccessDenied") if "partNumber=2" in request.url else None

    backend(store)._blocking_client().meta.events.register("before-send.s3.UploadPart", fail)
    with pytest.raises(PermissionDenied):
        store.write_bytes("n.bin", os.urandom(12 * MiB))
    assert leftovers(raw) == ([], [])
    assert not store.exists("n.bin")


def test_a_part_botocore_retries_is_sent_again(
    store: Store, raw: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore cannot rewind a memoryview body to retry: that part is sent again as bytes."""
    monkeypatch.setattr(s3_transfer, "WRITE_PART", 5 * MiB)
    failed: list[str] = []

    def fail_once(request: Any, **_: Any) -> AWSResponse | None:
        if "partNumber=2" in request.url and not failed:
            failed.append(request.url)
            return reply(request, 500, "InternalError")
        return None

    backend(store)._blocking_client().meta.events.register("before-send.s3.UploadPart", fail_once)
    data = os.urandom(23 * MiB)
    store.write_bytes("w.bin", data)
    assert failed
    assert backend(store).requests["UploadPart"] == 5 + 1
    assert store.read_bytes("w.bin") == data


@pytest.mark.parametrize("conditional", [True, False])
def test_exclusive_large_write_checks_first(
    seaweedfs: S3Server, s3_url: str, raw: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch, conditional: bool
) -> None:
    monkeypatch.setattr(s3_transfer, "WRITE_PART", 5 * MiB)
    options = {
        "part_size": 5 * MiB,
        "multipart_threshold": 5 * MiB,
        "capabilities": {"conditional_writes": conditional},
    }
    with open_on("s3", seaweedfs, s3_url, **options) as store:
        store.write_bytes("x.bin", b"first")
        backend(store).requests.clear()
        with pytest.raises(AlreadyExists):
            store.write_bytes("x.bin", os.urandom(12 * MiB), overwrite=False)
        assert backend(store).requests["CreateMultipartUpload"] == 0  # refused before sending anything
        assert store.read_bytes("x.bin") == b"first"
        data = os.urandom(12 * MiB)
        store.write_bytes("y.bin", data, overwrite=False)
        assert store.read_bytes("y.bin") == data
    assert leftovers(raw)[1] == []


def test_exclusive_large_write_loses_a_race_cleanly(
    store: Store, raw: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer creates the key while the parts go up: the completion's If-None-Match refuses it."""
    monkeypatch.setattr(s3_transfer, "WRITE_PART", 5 * MiB)
    client, bucket, prefix = raw
    done: list[bool] = []

    def other_writer(**_: Any) -> None:
        if not done:
            done.append(True)
            client.put_object(Bucket=bucket, Key=f"{prefix}/x.bin", Body=b"other")

    backend(store)._blocking_client().meta.events.register("before-call.s3.UploadPart", other_writer)
    with pytest.raises(AlreadyExists):
        store.write_bytes("x.bin", os.urandom(12 * MiB), overwrite=False)
    assert store.read_bytes("x.bin") == b"other"
    assert leftovers(raw) == ([f"{prefix}/x.bin"], [])
