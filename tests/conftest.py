"""Fixtures shared by every test: the real S3 servers, and a fresh store per test on each backend.

The S3 servers are started by ``scripts/test.sh`` (SeaweedFS and Ceph RGW on 127.0.0.1, credentials enforced)
which exports their endpoints and keys. A test that needs a server that was not started fails, saying how to
start it: S3 behaviour is never skipped silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from storage_hub import Store, open_store

TEST_BUCKET = "storage-hub-tests"
SERVER_ENV = {"seaweedfs": "STORAGE_HUB_TEST_SEAWEEDFS", "ceph": "STORAGE_HUB_TEST_CEPH"}


@dataclass(frozen=True)
class S3Server:
    """A running S3 server with one set of credentials."""

    name: str
    endpoint: str
    key: str
    secret: str

    def options(self, **extra: Any) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint, "key": self.key, "secret": self.secret, **extra}

    def client(self) -> Any:
        """A boto3 S3 client with this server's endpoint and keys, to set up and check what the tests do."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            region_name="us-east-1",
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )


def _server(name: str) -> S3Server:
    env = SERVER_ENV[name]
    endpoint, key, secret = (os.environ.get(env + s) for s in ("", "_KEY", "_SECRET"))
    if not (endpoint and key and secret):
        pytest.fail(
            f"{name} is not running ({env}, {env}_KEY and {env}_SECRET are unset): "
            "run the tests with `bash scripts/test.sh`, which starts it"
        )
    server = S3Server(name, endpoint, key, secret)
    client = server.client()
    try:
        client.create_bucket(Bucket=TEST_BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    except client.exceptions.BucketAlreadyExists:
        pass
    client.close()
    return server


#: Where a default store comes from; the contents manager sets the first two for its kernels.
STORE_ENV = (
    "STORAGE_HUB_KERNEL_STORE",
    "STORAGE_HUB_KERNEL_STORE_OPTIONS",
    "STORAGE_HUB_STORE",
    "STORAGE_HUB_STORE_OPTIONS",
    "STORAGE_HUB_STORES_FILE",
)


@pytest.fixture(autouse=True)
def no_default_store() -> Iterator[None]:
    """Each test starts with no default store in the environment, and what it (or a contents manager it made)
    sets there is undone after it."""
    saved = {name: os.environ.pop(name) for name in STORE_ENV if name in os.environ}
    yield
    for name in STORE_ENV:
        os.environ.pop(name, None)
    os.environ.update(saved)


@pytest.fixture(scope="session")
def seaweedfs() -> S3Server:
    return _server("seaweedfs")


@pytest.fixture(scope="session")
def ceph() -> S3Server:
    return _server("ceph")


@pytest.fixture(params=["seaweedfs", "ceph"])
def s3_server(request: pytest.FixtureRequest) -> S3Server:
    """Each real S3 server in turn."""
    server: S3Server = request.getfixturevalue(request.param)
    return server


def fresh_prefix() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def s3_url() -> str:
    """A fresh, empty location in the test bucket."""
    return f"{TEST_BUCKET}/{fresh_prefix()}"


def open_on(protocol: str, server: S3Server, location: str, **options: Any) -> Store:
    return open_store(f"{protocol}://{location}/", **server.options(**options))


@pytest.fixture
def closing() -> Iterator[list[Store]]:
    """Stores appended to this list are closed after the test."""
    stores: list[Store] = []
    yield stores
    for store in stores:
        store.close()
