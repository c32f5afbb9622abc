"""``GetObject`` and ``PutObject`` sent straight with aiohttp, signed as botocore signs them.

botocore spends about 1.7 ms of CPU on every request (event hooks, endpoint rules, a user agent rebuilt each call,
model-driven serialisation and parsing): for a small file that is most of the work, and it bound a migration of
10,000 small files to one busy core. These two requests, the bulk of small-file traffic, cost about 0.5 ms this
way. What botocore decides stays botocore's:

- the URL: a bucket's base URL is the one botocore builds (endpoint rules, addressing style), asked once per
  bucket by presigning a request;
- the credentials: the client's own (the credential chain, refreshed by botocore), signed as its SigV4 signer
  does (:mod:`.s3_sigv4`);
- the errors: an error answer becomes a botocore ``ClientError`` built from its XML document, so the one error
  table (:mod:`.s3_errors`) translates it;
- the retries: those of botocore's standard mode (connection errors, 5xx, throttling; ``max_attempts`` in all;
  jittered exponential backoff).

A bucket in another region than the configured one answers with a redirect: that becomes a ``ConfigurationError``
naming the bucket's region, as botocore would only follow it at one more request each time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import random
import ssl
import urllib.parse
import urllib.request
import weakref
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from xml.etree import ElementTree

import aiohttp
import yarl
from aiohttp.payload import TOO_LARGE_BYTES_BODY
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.httpsession import get_cert_path
from fsspec.asyn import sync

from ..errors import ConfigurationError
from .s3_options import S3Options
from .s3_sigv4 import payload_hash, sign

__all__ = ["MAX_LOOP_BODY", "ObjectAnswer", "ObjectRequests", "content_md5"]

#: The largest body sent from the event loop: aiohttp warns that a larger one "might lock the event loop" (it is
#: copied into the transport's buffer when the socket cannot take it at once); larger writes go through botocore
#: in a worker thread.
MAX_LOOP_BODY = TOO_LARGE_BYTES_BODY
#: Answers worth another try (botocore's standard retry mode).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeoutException"})
MAX_BACKOFF = 20.0
T = TypeVar("T")


@dataclass(frozen=True)
class ObjectAnswer:
    """A successful answer, its body read (``b""`` for a PUT)."""

    headers: Mapping[str, str]
    body: bytes

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def size(self) -> int:
        """The object's full size: ``Content-Range: bytes 0-9/1234`` of a ranged GET, else the body's length."""
        total = self.headers.get("Content-Range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else len(self.body)

    @property
    def modified(self) -> datetime | None:
        """``Last-Modified``, else the server's ``Date`` (a PUT's answer: the two agree to the second)."""
        value = self.headers.get("Last-Modified") or self.headers.get("Date")
        try:
            return parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class _Request:
    method: str
    bucket: str
    obj: str
    headers: Mapping[str, str] = field(default_factory=dict)
    #: A stream is signed as ``UNSIGNED-PAYLOAD``: it must come with a ``Content-MD5``.
    body: bytes | AsyncIterable[bytes] = b""


async def _answer(response: aiohttp.ClientResponse) -> ObjectAnswer:
    async with response:
        return ObjectAnswer(response.headers, await response.read())


async def _unread(response: aiohttp.ClientResponse) -> aiohttp.ClientResponse:
    return response


class ObjectRequests:
    """The GETs and PUTs of one S3 backend. ``client`` gives the backend's aiobotocore client; ``count`` hears
    the operation name of every call (not of every retry), as the backend's botocore hook does; ``ca_bundle``
    gives the CA bundle botocore's session trusts when the options name none (``AWS_CA_BUNDLE``, the profile's
    ``ca_bundle``), else ``None`` for certifi's, as botocore does."""

    def __init__(
        self,
        options: S3Options,
        client: Callable[[], Awaitable[Any]],
        count: Callable[[str], None],
        *,
        ca_bundle: Callable[[], str | None],
    ) -> None:
        self._options = options
        self._client = client
        self._count = count
        self._ca_bundle = ca_bundle
        self._session: aiohttp.ClientSession | None = None
        #: bucket -> (base URL, proxy)
        self._bases: dict[str, tuple[str, str | None]] = {}

    async def get(self, bucket: str, obj: str, *, byte_range: str | None = None) -> ObjectAnswer:
        headers = {"Range": byte_range} if byte_range else {}
        return await self._send("GetObject", _Request("GET", bucket, obj, headers), _answer)

    async def open(self, bucket: str, obj: str) -> aiohttp.ClientResponse:
        """A GET whose body is left to the caller to read, then close."""
        return await self._send("GetObject", _Request("GET", bucket, obj), _unread)

    async def put(
        self, bucket: str, obj: str, body: bytes, *, md5: str | None = None, if_none_match: bool = False
    ) -> ObjectAnswer:
        """One PUT; ``md5`` (hex) makes the server refuse a body that differs (``Content-MD5``)."""
        headers = {"If-None-Match": "*"} if if_none_match else {}
        if md5 is not None:
            headers["Content-MD5"] = content_md5(md5)
        return await self._send("PutObject", _Request("PUT", bucket, obj, headers, body), _answer)

    async def put_stream(
        self, bucket: str, obj: str, chunks: AsyncIterable[bytes], *, size: int, md5: str
    ) -> ObjectAnswer:
        """One PUT of the ``size`` bytes of ``chunks``, which the server refuses unless their MD5 is ``md5``. Sent
        once: a stream cannot be sent again, so the caller retries."""
        headers = {"Content-Length": str(size), "Content-MD5": content_md5(md5)}
        return await self._send("PutObject", _Request("PUT", bucket, obj, headers, chunks), _answer, once=True)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- plumbing ---------------------------------------------------------------------------------------------
    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            options = self._options
            if options.verify and options.uses_tls:
                tls: ssl.SSLContext | bool = _tls_context(options.ca_bundle or self._ca_bundle() or get_cert_path(True))
            else:
                tls = False  # no certificate to check: plain HTTP, or verification turned off
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=options.pool_size, ssl=tls),
                timeout=aiohttp.ClientTimeout(sock_connect=options.connect_timeout, sock_read=options.read_timeout),
                auto_decompress=False,  # the stored bytes, whatever Content-Encoding they were saved with
                skip_auto_headers=("Content-Type",),
            )
            weakref.finalize(self, _close_left_open, self._session, asyncio.get_running_loop())
        return self._session

    async def _base(self, bucket: str) -> tuple[str, str | None, Any]:
        """The bucket's base URL (ending with ``/``) as botocore builds it, the proxy to reach it, the client."""
        client = await self._client()
        if bucket not in self._bases:
            url = await client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
            base = url.partition("?")[0]
            if not base.endswith("/k"):
                raise ConfigurationError(f"cannot tell the URL of bucket {bucket!r} from {base!r}")
            self._bases[bucket] = base[:-1], _proxy_for(base)
        base, proxy = self._bases[bucket]
        return base, proxy, client

    async def _signed(
        self, client: Any, method: str, url: str, headers: dict[str, str], payload: str
    ) -> dict[str, str]:
        credentials = client._request_signer._credentials  # what botocore signs with, refreshed by it
        if self._options.anon or credentials is None:
            return headers
        frozen = await credentials.get_frozen_credentials()
        return sign(method, url, headers, payload=payload, credentials=frozen, region=client.meta.region_name)

    async def _send(
        self,
        operation: str,
        request: _Request,
        take: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        *,
        once: bool = False,
    ) -> T:
        """Send ``request`` (retried as botocore's standard mode does, unless ``once``) and ``take`` the successful
        answer."""
        base, proxy, client = await self._base(request.bucket)
        url = base + urllib.parse.quote(request.obj, safe="/~")
        self._count(operation)
        attempts = 1 if once else max(1, self._options.max_attempts)
        payload = payload_hash(request.headers, request.body if isinstance(request.body, bytes) else None)
        for attempt in range(1, attempts + 1):
            headers = await self._signed(client, request.method, url, dict(request.headers), payload)
            try:
                response = await self._http().request(
                    request.method, yarl.URL(url, encoded=True), data=request.body, headers=headers, proxy=proxy
                )
                if response.status < 300:
                    return await take(response)
                async with response:
                    error = _client_error(operation, response.status, response.headers, await response.read())
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError) as e:
                if attempt == attempts:
                    raise _as_botocore(e, url) from e
            else:
                self._check_region(request.bucket, client, response.status, response.headers)
                if attempt == attempts or not _retryable(error, response.status):
                    raise error
            await asyncio.sleep(min(random.random() * 2**attempt, MAX_BACKOFF))
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _check_region(bucket: str, client: Any, status: int, headers: Mapping[str, str]) -> None:
        region = headers.get("x-amz-bucket-region")
        if status in (301, 307, 400) and region and region != client.meta.region_name:
            raise ConfigurationError(
                f"bucket {bucket!r} is in region {region!r}, not {client.meta.region_name!r}: set region={region!r}"
            )


def _proxy_for(url: str) -> str | None:
    """The proxy botocore would take for ``url`` from the environment: ``HTTP(S)_PROXY``, unless ``NO_PROXY``
    names the host. (aiohttp's own ``trust_env`` would also read ``~/.netrc`` in a thread on every request.)"""
    parts = urllib.parse.urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return urllib.request.getproxies().get(parts.scheme)


@functools.lru_cache(maxsize=8)
def _tls_context(cafile: str) -> ssl.SSLContext:
    """The TLS context that trusts ``cafile`` (botocore's default: certifi's bundle), made once: loading a bundle
    takes tens of milliseconds."""
    return ssl.create_default_context(cafile=cafile)


def _close_left_open(session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop) -> None:
    """Close the connections of a store that was never closed (at exit, or when it is collected), as s3fs does
    for its client: on the loop while it runs, else the sockets directly (no "Unclosed client session")."""
    if session.closed:
        return
    with contextlib.suppress(Exception):
        sync(loop, session.close, timeout=0.1)  # refused on the loop's own thread, or once it has stopped
        return
    connector = session.connector
    if connector is not None:
        connector._close()


def content_md5(md5: str) -> str:
    """The ``Content-MD5`` header's value (base64 of the digest) for a hex MD5."""
    return base64.b64encode(bytes.fromhex(md5)).decode()


def _as_botocore(error: BaseException, url: str) -> BotoCoreError:
    """The botocore exception for a failed connection, as botocore itself raises (for the one error table)."""
    if isinstance(error, aiohttp.ClientConnectorError):  # nothing reached the server (TLS failures too)
        return EndpointConnectionError(endpoint_url=url)
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return ConnectTimeoutError(endpoint_url=url)
    if isinstance(error, asyncio.TimeoutError):
        return ReadTimeoutError(endpoint_url=url)
    return ConnectionClosedError(endpoint_url=url)


def _retryable(error: ClientError, status: int) -> bool:
    return status in RETRY_STATUSES or error.response["Error"].get("Code") in RETRY_CODES


def _client_error(operation: str, status: int, headers: Mapping[str, str], document: bytes) -> ClientError:
    """botocore's ``ClientError`` for an error answer: the fields of its ``<Error>`` document (the status as the
    code when there is none, as botocore does for a bodiless answer)."""
    fields: dict[str, str] = {}
    try:
        root = ElementTree.fromstring(document) if document else None
    except ElementTree.ParseError:
        root = None
    if root is not None:
        fields = {child.tag.rpartition("}")[2]: child.text or "" for child in root}
    fields.setdefault("Code", str(status))
    fields.setdefault("Message", "")
    response = {
        "Error": fields,
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {k.lower(): v for k, v in headers.items()}},
    }
    return ClientError(response, operation)  # type: ignore[arg-type]
