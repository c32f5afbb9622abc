"""Failures reach the user as typed errors that say what to fix, fast, and never with a secret.

Credentials and missing buckets are checked on the real servers; faults a real server won't produce on demand
(throttling, clock skew, an unknown TLS CA) come from a canned-reply server.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import pytest

from storage_hub import (
    AuthenticationError,
    BackendUnavailable,
    BucketNotFound,
    ConfigurationError,
    NotFound,
    PermissionDenied,
    open_store,
)

from .conftest import TEST_BUCKET, S3Server
from .fake_s3 import EMPTY_LISTING, Reply, error_reply, fake_s3, self_signed_certificate

SECRET = "s3cr3t-never-to-be-printed-0123456789"


@pytest.fixture(params=["s3", "cortx"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_wrong_secret(s3_server: S3Server, protocol: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = open_store(
        f"{protocol}://{TEST_BUCKET}/x/", endpoint_url=s3_server.endpoint, key=s3_server.key, secret=SECRET
    )
    started = time.monotonic()
    with pytest.raises(AuthenticationError, match="secret key") as info:
        store.ls("")
    assert time.monotonic() - started < 10
    assert isinstance(info.value, PermissionError)
    assert SECRET not in str(info.value) and SECRET not in repr(store) and SECRET not in caplog.text
    assert s3_server.key not in str(info.value)  # only a shortened key id is shown
    store.close()


def test_unknown_access_key(s3_server: S3Server, protocol: str) -> None:
    store = open_store(
        f"{protocol}://{TEST_BUCKET}/x/", endpoint_url=s3_server.endpoint, key="NOSUCHKEY1234", secret=SECRET
    )
    with pytest.raises(AuthenticationError, match="not known"):
        store.read_bytes("a.txt")
    store.close()


def test_missing_bucket(s3_server: S3Server, protocol: str) -> None:
    store = open_store(f"{protocol}://no-such-bucket-4f1c/x/", **s3_server.options())
    with pytest.raises(BucketNotFound, match=r"no-such-bucket-4f1c.*does not exist") as info:
        store.ls("")
    assert s3_server.endpoint in str(info.value)
    with pytest.raises(NotFound):
        store.write_bytes("a.txt", b"x")
    store.close()


def test_unreachable_endpoint_fails_fast(protocol: str) -> None:
    store = open_store(
        f"{protocol}://bucket/x/", endpoint_url=f"http://127.0.0.1:{free_port()}", key="k", secret=SECRET
    )
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="cannot reach") as info:
        store.ls("")
    assert time.monotonic() - started < 10
    assert isinstance(info.value, ConnectionError)
    store.close()


def test_throttling_is_retried_then_reported() -> None:
    reply = error_reply(503, "SlowDown", "Please reduce your request rate.")
    with fake_s3(reply) as endpoint:
        store = open_store("s3://bucket/x/", endpoint_url=endpoint, key="k", secret=SECRET, max_attempts=3)
        with pytest.raises(BackendUnavailable, match="SlowDown"):
            store.read_bytes("a.txt")
        store.close()
    assert reply.requests == 3


def test_clock_skew_names_the_difference(protocol: str) -> None:
    server_time = "2020-01-01T00:00:00Z"
    reply = error_reply(403, "RequestTimeTooSkewed", "skewed", f"<ServerTime>{server_time}</ServerTime>")
    with fake_s3(reply) as endpoint:
        store = open_store(f"{protocol}://bucket/x/", endpoint_url=endpoint, key="k", secret=SECRET)
        with pytest.raises(AuthenticationError, match=r"clock differs .* by \d{6,} s .*sync the clock"):
            store.ls("")
        store.close()


def test_access_denied_is_permission_error() -> None:
    with fake_s3(error_reply(403, "AccessDenied", "denied")) as endpoint:
        store = open_store("s3://bucket/x/", endpoint_url=endpoint, key="k", secret=SECRET)
        with pytest.raises(PermissionDenied):
            store.read_bytes("a.txt")
        store.close()


def test_tls_with_unknown_ca_points_to_ca_bundle(tmp_path: Path, protocol: str) -> None:
    cert, key = self_signed_certificate(tmp_path)
    reply = Reply(200, EMPTY_LISTING, {"Content-Type": "application/xml"})
    with fake_s3(reply, tls=(cert, key)) as endpoint:
        store = open_store(f"{protocol}://bucket/x/", endpoint_url=endpoint, key="k", secret=SECRET)
        with pytest.raises(BackendUnavailable, match=r"TLS verification failed.*ca_bundle"):
            store.ls("")
        with pytest.raises(BackendUnavailable, match=r"TLS verification failed.*ca_bundle"):
            store.read_bytes("a.txt")  # a GET goes through aiohttp (s3_http), a listing through botocore
        store.close()
        trusted = open_store(
            f"{protocol}://bucket/x/", endpoint_url=endpoint, key="k", secret=SECRET, ca_bundle=str(cert)
        )
        assert trusted.ls("") == []
        assert trusted.read_bytes("a.txt") == EMPTY_LISTING
        trusted.close()


def test_tls_trusts_the_ca_bundle_botocore_takes_from_the_environment(
    tmp_path: Path, protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(cert))
    reply = Reply(200, EMPTY_LISTING, {"Content-Type": "application/xml"})
    with (
        fake_s3(reply, tls=(cert, key)) as endpoint,
        open_store(f"{protocol}://bucket/x/", endpoint_url=endpoint, key="k", secret=SECRET) as store,
    ):
        assert store.ls("") == []  # botocore
        assert store.read_bytes("a.txt") == EMPTY_LISTING  # aiohttp (s3_http), with the same trust


def test_bad_options_are_refused_before_any_request() -> None:
    with pytest.raises(ConfigurationError, match="endpoint_url"):
        open_store("s3://bucket/", endpoint_url="ftp://x")
    with pytest.raises(ConfigurationError, match="unknown S3 option"):
        open_store("s3://bucket/", endpont_url="http://x")
    with pytest.raises(ConfigurationError, match=r"secret=\*\*\*|key and secret"):
        open_store("s3://bucket/", key="k")
    with pytest.raises(ConfigurationError, match="ca_bundle"):
        open_store("s3://bucket/", ca_bundle="/does/not/exist.pem")
    with pytest.raises(ConfigurationError, match="CORTX needs endpoint_url"):
        open_store("cortx://bucket/")
    with pytest.raises(ConfigurationError, match="must name a bucket"):
        open_store("s3://", endpoint_url="http://x")
    with pytest.raises(ConfigurationError, match="credentials in a store URL"):
        open_store(f"s3://AKIA:{SECRET}@bucket/")
