"""The core adapts to what a server can't do: each capability flag switched off, on the real servers."""

from __future__ import annotations

import os

import pytest

from storage_hub import AlreadyExists

from .conftest import S3Server, open_on

MiB = 2**20


@pytest.mark.parametrize(("protocol", "request_used"), [("s3", "UploadPartCopy"), ("cortx", "UploadPart")])
def test_copy_above_the_single_copy_limit(s3_server: S3Server, s3_url: str, protocol: str, request_used: str) -> None:
    """Above max_copy_size: UploadPartCopy where the server has it, else a streamed copy (CORTX)."""
    data = os.urandom(12 * MiB)
    with open_on(protocol, s3_server, s3_url, capabilities={"max_copy_size": 6 * MiB}, part_size=5 * MiB) as store:
        store.write_bytes("big.bin", data)
        backend = store.aio.backend
        backend.requests.clear()
        store.copy("big.bin", "copy.bin")
        assert store.read_bytes("copy.bin") == data
        assert backend.requests[request_used] >= 1
        assert backend.requests["CopyObject"] == 0


def test_no_bulk_delete(s3_server: S3Server, s3_url: str) -> None:
    with open_on("s3", s3_server, s3_url, capabilities={"bulk_delete": False}) as store:
        for i in range(5):
            store.write_bytes(f"d/{i}", b"x")
        backend = store.aio.backend
        backend.requests.clear()
        store.delete("d", recursive=True)
        # 5 files, then the folder's own key "d/" (deleted so that SeaweedFS drops the folder at once).
        assert backend.requests["DeleteObject"] == 6 and backend.requests["DeleteObjects"] == 0
        assert store.find("") == []


@pytest.mark.parametrize("conditional", [True, False])
def test_exclusive_create_with_and_without_conditional_writes(
    s3_server: S3Server, s3_url: str, conditional: bool
) -> None:
    with open_on("s3", s3_server, s3_url, capabilities={"conditional_writes": conditional}) as store:
        store.write_bytes("x", b"1", overwrite=False)
        with pytest.raises(AlreadyExists):
            store.write_bytes("x", b"2", overwrite=False)
        assert store.read_bytes("x") == b"1"


def test_large_write_bytes_goes_multipart(s3_server: S3Server, s3_url: str) -> None:
    data = os.urandom(11 * MiB)
    with open_on("s3", s3_server, s3_url, part_size=5 * MiB, multipart_threshold=5 * MiB) as store:
        store.write_bytes("m.bin", data)
        assert store.aio.backend.requests["UploadPart"] == 3
        assert store.read_bytes("m.bin") == data
