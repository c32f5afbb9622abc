"""What the benchmark scripts share: a raw S3 client with storage_hub's botocore settings and its two ways to read
an object, the check of what a read returned, bucket and prefix housekeeping, progress lines on stderr, the
results table and the JSON file."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"


def botocore_config(pool: int = 10) -> Config:
    """storage_hub's botocore settings: path-style, ``REGION``, checksums only when required."""
    return Config(
        region_name=REGION,
        s3={"addressing_style": "path"},
        max_pool_connections=pool,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


def raw_client(endpoint: str, key: str, secret: str, pool: int = 10) -> Any:
    """A plain boto3 S3 client with :func:`botocore_config`."""
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret, config=botocore_config(pool)
    )


def server_arguments(parser: argparse.ArgumentParser) -> None:
    """``--endpoint-url``, ``--key``, ``--secret`` (default: the ``STORAGE_HUB_TEST_SEAWEEDFS*`` variables) and
    ``--bucket``."""
    parser.add_argument("--endpoint-url", default=os.environ.get("STORAGE_HUB_TEST_SEAWEEDFS"))
    parser.add_argument("--key", default=os.environ.get("STORAGE_HUB_TEST_SEAWEEDFS_KEY"))
    parser.add_argument("--secret", default=os.environ.get("STORAGE_HUB_TEST_SEAWEEDFS_SECRET"))
    parser.add_argument("--bucket", default="storage-hub-bench")


def ensure_bucket(client: Any, bucket: str) -> None:
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        client.create_bucket(Bucket=bucket)


def delete_prefix(client: Any, bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix`` (1,000 per request); returns how many."""
    deleted = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted


@contextmanager
def phase(title: str) -> Iterator[None]:
    """``... title`` on stderr, then how long the block took."""
    print(f"... {title}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    yield
    print(f"    done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


def boto3_readers(client: Any, bucket: str, key: str) -> tuple[Callable[[], bytes], Callable[[], io.BytesIO]]:
    """boto3's two ways to read a whole object: ``get_object()["Body"].read()`` (one GET), and
    ``download_fileobj`` into a ``BytesIO`` (the TransferManager with boto3's defaults: 8 MiB parts, 10 threads)."""

    def get() -> bytes:
        body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def download() -> io.BytesIO:
        buffer = io.BytesIO()
        client.download_fileobj(bucket, key, buffer)
        return buffer

    return get, download


def same_bytes(size: int, digest: bytes) -> Callable[[object], None]:
    """The check of a read's result (any buffer: bytes, obstore's ``Bytes``, a ``BytesIO``): ``size`` bytes whose
    SHA-256 is ``digest``."""

    def check(out: object) -> None:
        try:
            view = out.getbuffer() if isinstance(out, io.BytesIO) else memoryview(out)  # type: ignore[arg-type]
        except TypeError:
            raise TypeError(f"unexpected read result {type(out).__name__}") from None
        with view:
            if view.nbytes != size or hashlib.sha256(view).digest() != digest:
                raise RuntimeError("read back different bytes than were written")

    return check


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Aligned columns under ``header``, the last one left as long as it is (requests, notes); a blank line
    wherever the first column changes."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]

    def line(row: Sequence[str]) -> str:
        cells = [cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)]
        return "  ".join([*cells, row[-1]]).rstrip()

    print(line(header))
    print(line(["-" * w for w in widths] + ["-" * len(header[-1])]))
    previous = None
    for row in rows:
        if previous is not None and row[0] != previous:
            print()
        print(line(row))
        previous = row[0]
    print()


def write_json(path: str, payload: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=2)
        f.write("\n")


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except (AttributeError, OSError):  # not Unix
        return "unknown"
