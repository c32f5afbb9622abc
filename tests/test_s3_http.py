"""The GETs and PUTs that bypass botocore's request machinery (:mod:`storage_hub.backends.s3_http`): what they
send and how they fail, against a canned-reply server. Their S3 behaviour is the store suite's, on SeaweedFS and
Ceph RGW (every read and write of a file goes this way)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from storage_hub import ConfigurationError, PermissionDenied, Store, open_store

from .fake_s3 import EMPTY_LISTING, Reply, error_reply, fake_s3

MiB = 2**20
SECRET = "s3cr3t-never-to-be-printed-0123456789"
PUT_ANSWER = {"ETag": '"0123456789abcdef0123456789abcdef"'}


def on(endpoint: str) -> Store:
    return open_store("s3://bucket/x/", endpoint_url=endpoint, key="k", secret=SECRET)


@pytest.fixture
def put_answers() -> Iterator[tuple[Reply, Store]]:
    reply = Reply(200, b"", PUT_ANSWER)
    with fake_s3(reply) as endpoint, on(endpoint) as store:
        yield reply, store


@pytest.mark.parametrize("size", [10, 9 * MiB])  # on the event loop, and in a worker thread through botocore
def test_a_write_with_its_md5_sends_it_and_does_not_hash_the_body_again(
    put_answers: tuple[Reply, Store], size: int
) -> None:
    reply, store = put_answers
    data = b"d" * size
    store.write_bytes("with.bin", data, md5=hashlib.md5(data).hexdigest())
    store.write_bytes("without.bin", data)
    (method, checked), (_, plain) = reply.seen
    assert method == "PUT"
    assert checked["Content-MD5"] and checked["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert "Content-MD5" not in plain and plain["X-Amz-Content-SHA256"] == hashlib.sha256(data).hexdigest()


def test_a_dropped_connection_is_tried_again_and_counted_once() -> None:
    reply = Reply(200, b"content", {"ETag": '"9a0364b9e99bb480dd25e1f0284c8555"'}, drop=1)
    with fake_s3(reply) as endpoint, on(endpoint) as store:
        assert store.read_bytes("a.txt") == b"content"
        assert reply.requests == 2
        assert dict(store.aio.backend.requests) == {"GetObject": 1}


def test_a_bucket_in_another_region_names_its_region() -> None:
    reply = error_reply(301, "PermanentRedirect", "use the bucket's endpoint")
    reply.headers["x-amz-bucket-region"] = "eu-west-1"
    expected = "in region 'eu-west-1', not 'us-east-1': set region='eu-west-1'"
    with fake_s3(reply) as endpoint, on(endpoint) as store, pytest.raises(ConfigurationError, match=expected):
        store.read_bytes("a.txt")
    assert reply.requests == 1  # not retried


def test_errors_never_show_the_secret() -> None:
    reply = error_reply(403, "AccessDenied", "denied")
    with fake_s3(reply) as endpoint, on(endpoint) as store, pytest.raises(PermissionDenied) as info:
        store.write_bytes("a.txt", b"x")
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


def test_plain_http_loads_no_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """No certificate is checked over http://, so no CA bundle is read (30-50 ms per client). A bundle that does
    not exist would fail the first request of any client that tried to load it."""
    monkeypatch.setenv("AWS_CA_BUNDLE", "/nowhere/ca.pem")
    reply = Reply(200, EMPTY_LISTING, {"Content-Type": "application/xml"})
    with fake_s3(reply) as endpoint, on(endpoint) as store:
        assert endpoint.startswith("http://")
        assert store.ls("") == []  # aiobotocore
        assert store.read_bytes("a.txt") == EMPTY_LISTING  # aiohttp
        store.write_bytes("big.bin", b"b" * (9 * MiB))  # botocore's blocking client, in a thread


def test_the_proxy_is_botocores_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from storage_hub.backends.s3_http import _proxy_for

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert _proxy_for("http://s3.example.com/bucket/") == "http://proxy.example:3128"
    assert _proxy_for("http://127.0.0.1:8333/bucket/") is None
    assert _proxy_for("https://s3.example.com/bucket/") is None  # no HTTPS_PROXY


@pytest.mark.parametrize("token", [None, "session-token/+="])
@pytest.mark.parametrize(
    ("url", "headers", "body"),
    [
        ("http://127.0.0.1:8333/bucket/plain.txt", {}, b""),
        ("https://bucket.s3.eu-west-1.amazonaws.com/a%20b/%C3%BC%2B%25%26%3B%24%40%3D%2C%21%27%28%29~.txt", {}, b"x"),
        ("https://s3.example.com:443/b/k", {"Range": "bytes=0-8388607"}, b""),
        ("http://[::1]:9000/b/k", {"If-None-Match": "*", "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}, b"body"),
    ],
)
def test_the_signature_is_botocores(url: str, headers: dict[str, str], body: bytes, token: str | None) -> None:
    """The same request signed by botocore's S3SigV4Auth and by s3_sigv4 carries the same headers."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import ReadOnlyCredentials

    from storage_hub.backends.s3_sigv4 import payload_hash, sign, sign_md5_checked

    credentials = ReadOnlyCredentials("AKIDEXAMPLE", SECRET, token)
    request = AWSRequest(method="PUT", url=url, data=body, headers=dict(headers))
    sign_md5_checked(request)
    S3SigV4Auth(credentials, "s3", "eu-west-1").add_auth(request)
    expected = dict(request.headers.items())
    stamp = datetime.strptime(expected["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    ours = sign(
        "PUT",
        url,
        headers,
        payload=payload_hash(headers, body),
        credentials=credentials,
        region="eu-west-1",
        now=stamp,
    )
    assert ours == expected
