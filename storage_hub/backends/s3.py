"""AWS S3 and every S3-compatible server (SeaweedFS, Ceph RGW, MinIO...).

Requests go straight to the aiobotocore client that s3fs builds (so the standard credential chain and s3fs's
``storage_options`` apply), with botocore's standard retry mode (backoff on throttling, 5xx and connection errors),
and through one error table (:mod:`.s3_errors`). Folders follow the console convention: a ``dir/`` marker object
for an empty folder, and any key prefix shows as a folder. Listing a folder is one delimiter listing per 1,000
entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import urllib.parse
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any, ClassVar

import aiobotocore.session
import botocore.loaders
import botocore.session
import s3fs
from botocore.config import Config
from botocore.exceptions import ClientError, UnseekableStreamError

from ..backend import Backend, Capabilities, Check, Entry, ReadSession, WriteSession, check_md5, run_bounded
from ..config import StoreConfig, redact
from ..errors import (
    AlreadyExists,
    BackendUnavailable,
    ChecksumMismatch,
    ConfigurationError,
    Conflict,
    IsAFolder,
    NotAFolder,
    NotFound,
    PartialFailure,
    StorageError,
)
from .s3_errors import Advice, cause_code, clock_skew_seconds, error_code, s3_errors
from .s3_http import MAX_LOOP_BODY, ObjectAnswer, ObjectRequests, content_md5
from .s3_options import S3Options
from .s3_sigv4 import sign_md5_checked
from .s3_transfer import BytesBuffer, MultipartWriteSession, S3ReadSession, read_body_into, read_parts, upload_parts

__all__ = ["S3Backend"]

GiB = 2**30
#: A whole-object read takes this much in its first GET, on the event loop; the rest of a larger object comes in
#: parallel ranged GETs in worker threads on botocore's blocking client (:mod:`.s3_transfer`): on this kind of
#: machine aiohttp's chunked body handling costs an extra full copy (measured 1.6-1.9x slower for 256 MiB than a
#: plain botocore GET). Writes above ``MAX_LOOP_BODY`` go through the blocking client in a thread, those above
#: ``multipart_threshold`` in parallel parts.
THREAD_TRANSFER = 8 * 2**20
DELETE_BATCH = 1000
MAX_CLOCK_SKEW = 900.0


@functools.cache
def _shared_loader() -> Any:
    """One botocore data loader for the process: every session would otherwise load and keep its own copy of
    botocore's S3 model (about 10 MB per store). Sessions stay per store, so each resolves its own credentials."""
    return botocore.loaders.create_loader()


def _aio_session(profile: str | None) -> Any:
    session = aiobotocore.session.AioSession(profile=profile)
    session.register_component("data_loader", _shared_loader())
    return session


def _blocking_session(profile: str | None) -> Any:
    session = botocore.session.Session(profile=profile)
    session.register_component("data_loader", _shared_loader())
    return session


class S3Backend(Backend):
    """A bucket (and optional prefix) on an S3-compatible server: ``s3://bucket/prefix/``."""

    protocols: ClassVar[tuple[str, ...]] = ("s3", "s3a")
    capabilities = Capabilities(
        server_side_copy=True,
        multipart_copy=True,
        conditional_writes=True,
        versioning=True,
        bulk_delete=True,
        checked_writes=True,
        max_single_put=5 * GiB,
        max_copy_size=5 * GiB,
        max_key_bytes=1024,
    )
    #: Options a subclass sets for its kind of server (CORTX: path-style, region US).
    option_defaults: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    product = "S3"

    def __init__(self, config: StoreConfig) -> None:
        bucket = config.location.split("/", 1)[0]
        if not bucket:
            raise ConfigurationError(f"{config.url}: an S3 store URL must name a bucket (s3://bucket/prefix/)")
        self.options = S3Options.from_mapping(config.options, **self.option_defaults)
        overrides = dict(self.options.capabilities)
        known = {f.name for f in fields(Capabilities)}
        if set(overrides) - known:
            raise ConfigurationError(f"unknown capabilities {sorted(set(overrides) - known)}; known: {sorted(known)}")
        self.capabilities = replace(type(self).capabilities, **overrides)
        self.max_concurrency = self.options.max_concurrency
        super().__init__(config)
        session = _aio_session(self.options.profile)
        self.fs = s3fs.S3FileSystem(
            use_listings_cache=False, skip_instance_cache=True, session=session, **self.options.storage_options()
        )
        self.requests: Counter[str] = Counter()
        self._requests_lock = threading.Lock()
        self._client: Any = None
        self._client_lock = asyncio.Lock()
        self._blocking: Any = None
        self._blocking_lock = threading.Lock()
        # botocore trusts, unless told otherwise, the CA bundle of AWS_CA_BUNDLE or the profile's `ca_bundle`
        self.objects = ObjectRequests(
            self.options, self.client, self.count, ca_bundle=lambda: session.get_config_variable("ca_bundle")
        )
        key = self.options.key or ""
        self.advice = self.make_advice(key[:4] + "***" if key else "(from the AWS credential chain)")

    def make_advice(self, key_id: str) -> Advice:
        """The wording of this backend's error messages."""
        return Advice(endpoint=self.options.endpoint_url or "AWS", key_id=key_id, product=self.product)

    def url(self, key: str) -> str:
        return f"s3://{key}"  # s3fs's protocol, for CORTX too: the options carry the endpoint

    @property
    def storage_options(self) -> dict[str, Any]:
        """``s3fs`` keyword arguments that reach the same store (for pandas, pyarrow, Dask)."""
        return self.options.storage_options()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.config.url!r}, options={redact(self.config.options)!r})"

    # -- plumbing ---------------------------------------------------------------------------------------------
    @contextmanager
    def errors(self, key: str) -> Iterator[None]:
        with s3_errors(key, self.advice):
            yield

    async def client(self) -> Any:
        """The aiobotocore client, created on first use on the I/O loop; counts calls in ``self.requests``."""
        if self._client is None:
            async with self._client_lock:
                if self._client is None:
                    with self.errors(self.root):
                        client = await self.fs.set_session()
                    client.meta.events.register("before-call.s3", self._count)
                    self._client = client
                    credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
                    key_id = getattr(credentials, "access_key", None)
                    if isinstance(key_id, str) and key_id:
                        self.advice = self.make_advice(key_id[:4] + "***")
        return self._client

    def _count(self, model: Any, **_: Any) -> None:
        self.count(model.name)

    def count(self, operation: str) -> None:
        """Count one request of ``operation`` (``GetObject``...) in ``self.requests``."""
        with self._requests_lock:
            self.requests[operation] += 1

    def _blocking_client(self) -> Any:
        """botocore's blocking client with the same options and credential chain, for large transfers in threads.

        Its parameter validation is off so that a part's body can be a ``memoryview`` of the caller's bytes
        (botocore's validator knows only bytes, bytearray and file objects; its serializer, signer and urllib3 take
        any buffer). Only this module calls it, with parameters it builds itself.
        """
        with self._blocking_lock:
            if self._blocking is None:
                kwargs = self.options.client_kwargs()
                kwargs["config"] = kwargs["config"].merge(Config(parameter_validation=False))
                client = _blocking_session(self.options.profile).create_client("s3", **kwargs)
                client.meta.events.register("before-call.s3", self._count)
                client.meta.events.register("before-sign.s3.PutObject", sign_md5_checked)
                self._blocking = client
            return self._blocking

    async def call_in_thread(self, method: str, key: str, **kwargs: Any) -> Any:
        """Like :meth:`call`, on the blocking client in a worker thread; a ``get_object`` body is read there too
        (``response["Body"]`` is then the bytes)."""

        def run() -> Any:
            response = getattr(self._blocking_client(), method)(**kwargs)
            if method == "get_object":
                with response["Body"] as body:
                    response["Body"] = body.read()
            return response

        with self.errors(key):
            return await asyncio.to_thread(run)

    async def call(self, method: str, key: str, **kwargs: Any) -> Any:
        """Call one S3 API method; every failure becomes a typed error about ``key``."""
        client = await self.client()
        with self.errors(key):
            return await getattr(client, method)(**kwargs)

    @staticmethod
    def split(key: str) -> tuple[str, str]:
        """``bucket/a/b`` -> ``("bucket", "a/b")``."""
        bucket, _, rest = key.partition("/")
        return bucket, rest

    def _entry(self, bucket: str, obj: Mapping[str, Any]) -> Entry:
        name = str(obj["Key"])
        modified = obj.get("LastModified")
        if isinstance(modified, datetime):
            # Whole seconds, as HTTP dates carry them: some servers (Ceph) list milliseconds that HEAD drops.
            modified = modified.astimezone(timezone.utc).replace(microsecond=0)
        if name.endswith("/"):
            return Entry(f"{bucket}/{name.rstrip('/')}", "directory", last_modified=modified)
        etag = obj.get("ETag")
        return Entry(
            f"{bucket}/{name}",
            "file",
            size=int(obj.get("Size", obj.get("ContentLength", 0))),
            last_modified=modified,
            etag=str(etag).strip('"') if etag else None,
        )

    async def _pages(self, key: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        bucket, _ = self.split(key)
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = await self.call("list_objects_v2", key, Bucket=bucket, **kwargs, **extra)
            yield page
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    # -- metadata ---------------------------------------------------------------------------------------------
    async def info(self, key: str) -> Entry:
        bucket, obj = self.split(key)
        if not obj or key == self.root:
            return Entry(key, "directory")
        try:
            head = await self.call("head_object", key, Bucket=bucket, Key=obj)
        except NotFound:
            pass
        else:
            return self._entry(bucket, {"Key": obj, **head})
        async for page in self._pages(key, Prefix=obj + "/", MaxKeys=1):
            if page.get("KeyCount", 0) or page.get("Contents") or page.get("CommonPrefixes"):
                return Entry(key, "directory")
        raise NotFound(f"{key}: no such file or folder", key)

    async def is_file(self, key: str) -> bool:
        bucket, obj = self.split(key)
        if not obj:
            return False
        try:
            await self.call("head_object", key, Bucket=bucket, Key=obj)
        except NotFound:
            return False
        return True

    async def list_folder(self, key: str) -> tuple[Entry, list[Entry]]:
        bucket, obj = self.split(key)
        prefix = obj + "/" if obj else ""
        entries: dict[str, Entry] = {}
        folder: Entry | None = None
        async for page in self._pages(key, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(prefix) :].rstrip("/")
                if name:
                    entries.setdefault(name + "/", Entry(f"{bucket}/{prefix}{name}", "directory"))
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix) :]
                if not name:
                    folder = self._entry(bucket, item).moved(key)
                elif name.rstrip("/") and "/" not in name.rstrip("/"):
                    # A nested "sub/" marker can show up here on some servers; it is the same folder.
                    entries.setdefault(name, self._entry(bucket, item))
        if not entries and folder is None and obj and key != self.root and (await self.info(key)).type == "file":
            raise NotAFolder(f"{key}: is a file, not a folder", key)
        return folder or Entry(key, "directory"), list(entries.values())

    async def _all_objects(self, key: str) -> list[Entry]:
        """Every object under folder ``key``, its own marker included: one request per 1,000 keys."""
        bucket, obj = self.split(key)
        found: list[Entry] = []
        async for page in self._pages(key, Prefix=obj + "/" if obj else ""):
            found.extend(self._entry(bucket, item) for item in page.get("Contents", []))
        return found

    async def find(self, key: str) -> list[Entry]:
        return [e for e in await self._all_objects(key) if e.path != key]

    # -- bytes ------------------------------------------------------------------------------------------------
    def _file_key(self, key: str) -> tuple[str, str]:
        bucket, obj = self.split(key)
        if not obj:
            raise IsAFolder(f"{key}: is a bucket, not a file", key)
        return bucket, obj

    async def get(self, key: str, byte_range: str | None = None) -> ObjectAnswer:
        """One ``GetObject`` (:mod:`.s3_http`), its body read."""
        bucket, obj = self._file_key(key)
        with self.errors(key):
            return await self.objects.get(bucket, obj, byte_range=byte_range)

    async def read(self, key: str, start: int | None = None, end: int | None = None) -> bytes:
        if start is None and end is None:
            return (await self.read_entry(key))[1]
        first = start or 0
        if end is not None and end <= first:
            self._file_key(key)
            return b""
        try:
            answer = await self.get(key, f"bytes={first}-{'' if end is None else end - 1}")
        except StorageError as e:
            if cause_code(e) == "InvalidRange":  # a range starting at or past the end
                return b""
            raise
        return answer.body

    async def read_entry(self, key: str) -> tuple[Entry, bytes]:
        """One GET for an object up to ``THREAD_TRANSFER`` bytes; a larger one continues in parallel ranged GETs.

        The GET asks for the first ``THREAD_TRANSFER`` bytes: a small object comes back whole; for a larger one
        that answer gives the size and ETag, and the rest of that same version comes in ranges, in worker threads,
        straight into the bytes returned (:func:`.s3_transfer.read_parts`). If the object is replaced meanwhile,
        one plain GET reads it again.
        """
        bucket, obj = self._file_key(key)
        try:
            answer = await self.get(key, f"bytes=0-{THREAD_TRANSFER - 1}")
        except StorageError as e:
            if cause_code(e) != "InvalidRange":
                raise
            answer = await self.get(key)  # an empty object has no byte 0 to ask for
        etag, modified, data = answer.etag, answer.modified, answer.body
        if answer.size > len(data):
            try:
                with self.errors(key):
                    data = await read_parts(self, key, size=answer.size, etag=etag, head=data)
            except Conflict:
                response = await self.call_in_thread("get_object", key, Bucket=bucket, Key=obj)
                etag, modified, data = response.get("ETag"), response.get("LastModified"), response["Body"]
        return self._entry(bucket, {"Key": obj, "Size": len(data), "LastModified": modified, "ETag": etag}), data

    async def read_range_into(self, key: str, buffer: BytesBuffer, start: int, end: int, etag: str | None) -> None:
        """Fill ``buffer.view[start:end]`` with the object's bytes ``[start, end)``: one ranged GET, in a thread.

        Raises ``Conflict`` if the answer is not that range of the version with ``etag`` (the object was replaced).
        """
        bucket, obj = self._file_key(key)
        changed = f"{key}: the object changed on the server while it was read"

        def run() -> None:  # holds ``buffer``, so that its bytes outlive the thread's writes
            try:
                response = self._blocking_client().get_object(Bucket=bucket, Key=obj, Range=f"bytes={start}-{end - 1}")
            except ClientError as e:
                if error_code(e) == "InvalidRange":  # the object shrank
                    raise Conflict(changed, key) from e
                raise
            body = response["Body"]
            if (etag is not None and response.get("ETag") != etag) or int(response["ContentLength"]) != end - start:
                body.close()
                raise Conflict(changed, key)
            read_body_into(body, buffer.view[start:end])

        with self.errors(key):
            await asyncio.to_thread(run)

    async def open_read(self, key: str) -> ReadSession:
        bucket, obj = self.split(key)
        with self.errors(key):
            return S3ReadSession(self, key, await self.objects.open(bucket, obj))

    async def put(self, key: str, data: bytes, *, exclusive: bool = False, md5: str | None = None) -> Entry:
        """One ``PutObject``; with ``exclusive``, refused by the server if the key exists; with ``md5``, refused if
        the bytes that arrive differ (``Content-MD5``), and the body is not hashed again for the signature.

        Up to ``MAX_LOOP_BODY`` bytes it goes through :mod:`.s3_http`, above through botocore in a worker thread.
        The entry returned comes from the answer (see :meth:`_written`), so no HEAD is needed after a save.
        """
        bucket, obj = self.split(key)
        try:
            if len(data) <= MAX_LOOP_BODY:
                with self.errors(key):
                    answer = await self.objects.put(bucket, obj, data, md5=md5, if_none_match=exclusive)
                etag, modified = answer.etag, answer.modified
            else:
                condition = {"IfNoneMatch": "*"} if exclusive else {}
                checked = {"ContentMD5": content_md5(md5)} if md5 else {}
                response = await self.call_in_thread(
                    "put_object", key, Bucket=bucket, Key=obj, Body=data, **condition, **checked
                )
                etag, modified = response.get("ETag"), _date(response)
        except StorageError as e:
            if exclusive and cause_code(e) in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise AlreadyExists(f"{key}: already exists", key) from e
            raise
        return self._written(bucket, obj, len(data), etag, modified)

    async def write(self, key: str, data: bytes, *, exclusive: bool = False, md5: str | None = None) -> Entry:
        limit = min(self.options.multipart_threshold, self.capabilities.max_single_put or len(data))
        conditional = exclusive and self.capabilities.conditional_writes
        if exclusive and not conditional:
            # No server-side condition: check first (a concurrent writer can still win the race).
            try:
                await self.info(key)
            except NotFound:
                pass
            else:
                raise AlreadyExists(f"{key}: already exists", key)
        elif conditional and len(data) > limit and await self.is_file(key):
            # Before a multipart upload, which would otherwise send it all to be refused when completed (and some
            # servers, Ceph RGW, ignore the condition there); the condition still closes the race where honoured.
            raise AlreadyExists(f"{key}: already exists", key)
        if len(data) <= limit:
            return await self.put(key, data, exclusive=conditional, md5=md5)
        if md5 is not None:  # a multipart upload has no Content-MD5 of the whole
            await check_md5(key, data, md5)
        return await self.put_multipart(key, data, exclusive=conditional)

    async def write_stream(self, key: str, chunks: AsyncIterable[bytes], *, size: int, md5: str) -> Entry:
        """Up to the largest single PUT, one streamed ``PutObject`` that the server checks against ``md5``
        (:mod:`.s3_http`); above, the default (a multipart upload, the MD5 computed here)."""
        if size > (self.capabilities.max_single_put or size):
            return await super().write_stream(key, chunks, size=size, md5=md5)
        bucket, obj = self._file_key(key)
        sent = 0
        failure: list[BaseException] = []

        async def exactly() -> AsyncIterator[bytes]:
            nonlocal sent
            try:
                async for chunk in chunks:
                    sent += len(chunk)
                    if sent > size:
                        raise ChecksumMismatch(f"{key}: more than the {size} bytes announced to write", key)
                    yield chunk
                if sent != size:
                    raise ChecksumMismatch(f"{key}: {sent} bytes to write, {size} announced", key)
            except BaseException as e:  # the source's own error, not the broken upload aiohttp makes of it
                failure.append(e)
                raise

        try:
            with self.errors(key):
                answer = await self.objects.put_stream(bucket, obj, exactly(), size=size, md5=md5)
        except Exception:
            if failure:
                raise failure[0] from None
            raise
        return self._written(bucket, obj, size, answer.etag, answer.modified)

    async def put_multipart(self, key: str, data: bytes, *, exclusive: bool = False) -> Entry:
        """One multipart upload of ``data`` in parallel parts (:func:`.s3_transfer.upload_parts`); with
        ``exclusive``, completed only if the key does not exist (``If-None-Match: *``).

        Any failure aborts the upload, so nothing appears at the key. Returns the entry, as :meth:`put` does.
        """
        bucket, obj = self.split(key)
        upload_id = await self.create_multipart(key)
        try:
            parts = await upload_parts(self, key, upload_id, data)
            response = await self.complete_multipart(key, upload_id, parts, exclusive=exclusive)
        except BaseException:
            await self.abort_multipart(key, upload_id)
            raise
        return self._written(bucket, obj, len(data), response.get("ETag"), _date(response))

    def _written(self, bucket: str, obj: str, size: int, etag: str | None, modified: datetime | None) -> Entry:
        """The entry of an object just written, from the write's answer: its ETag, and the server's ``Date`` as
        the modification time (S3 returns no ``LastModified`` from a write; the two agree to the second)."""
        modified = modified or datetime.now(timezone.utc)
        return self._entry(bucket, {"Key": obj, "Size": size, "LastModified": modified, "ETag": etag})

    async def open_write(self, key: str) -> WriteSession:
        if not self.split(key)[1]:
            raise IsAFolder(f"{key}: is a bucket, not a file", key)
        return MultipartWriteSession(self, key, self.options.part_size, self.options.upload_concurrency)

    async def create_multipart(self, key: str) -> str:
        bucket, obj = self.split(key)
        response = await self.call("create_multipart_upload", key, Bucket=bucket, Key=obj)
        return str(response["UploadId"])

    async def upload_part(self, key: str, upload_id: str, number: int, data: bytes | memoryview) -> str:
        bucket, obj = self.split(key)
        part = {"Bucket": bucket, "Key": obj, "UploadId": upload_id, "PartNumber": number}
        # In a worker thread: signing hashes each part, and the thread keeps that off the event loop.
        try:
            response = await self.call_in_thread("upload_part", key, Body=data, **part)
        except BackendUnavailable as e:
            if not isinstance(e.__cause__, UnseekableStreamError):
                raise
            # botocore retries a failed request by rewinding its body, which a memoryview cannot do; it has waited
            # its backoff already. Send this part again as bytes (a copy, on this rare path only), with retries.
            response = await self.call_in_thread("upload_part", key, Body=bytes(data), **part)
        return str(response["ETag"])

    async def complete_multipart(
        self, key: str, upload_id: str, parts: Mapping[int, str], *, exclusive: bool = False
    ) -> dict[str, Any]:
        """Complete the upload; with ``exclusive``, refused (``AlreadyExists``) if the key exists meanwhile. The
        upload is left for the caller to abort if this fails."""
        bucket, obj = self.split(key)
        listed = [{"PartNumber": n, "ETag": parts[n]} for n in sorted(parts)]
        condition = {"IfNoneMatch": "*"} if exclusive else {}
        try:
            response: dict[str, Any] = await self.call(
                "complete_multipart_upload",
                key,
                Bucket=bucket,
                Key=obj,
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},
                **condition,
            )
        except StorageError as e:
            if exclusive and cause_code(e) in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise AlreadyExists(f"{key}: already exists", key) from e
            raise
        return response

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        bucket, obj = self.split(key)
        # Best effort: if this fails too, the server's lifecycle rules expire the abandoned upload.
        with contextlib.suppress(StorageError):
            await self.call("abort_multipart_upload", key, Bucket=bucket, Key=obj, UploadId=upload_id)

    # -- tree operations --------------------------------------------------------------------------------------
    async def copy_file(self, src: str, dst: str, size: int | None = None) -> None:
        """One ``CopyObject``; above ``max_copy_size``, ``UploadPartCopy`` or a streamed copy.

        With ``size`` unknown the single copy is tried first (one request for the usual small file) and the
        size is asked only if the server refuses it as too large.
        """
        limit = self.capabilities.max_copy_size
        if size is None or limit is None or size <= limit:
            src_bucket, src_obj = self.split(src)
            dst_bucket, dst_obj = self.split(dst)
            try:
                await self.call(
                    "copy_object",
                    src,
                    Bucket=dst_bucket,
                    Key=dst_obj,
                    CopySource={"Bucket": src_bucket, "Key": src_obj},
                )
                return
            except StorageError as e:
                if size is not None or cause_code(e) not in ("InvalidRequest", "EntityTooLarge"):
                    raise
            size = (await self.info(src)).size
        if self.capabilities.multipart_copy:
            await self._multipart_copy(src, dst, size)
        else:
            await self._streamed_copy(src, dst)

    async def _multipart_copy(self, src: str, dst: str, size: int) -> None:
        src_bucket, src_obj = self.split(src)
        dst_bucket, dst_obj = self.split(dst)
        upload_id = await self.create_multipart(dst)
        part = 512 * 2**20
        parts: dict[int, str] = {}
        source = f"{src_bucket}/{urllib.parse.quote(src_obj, safe='/')}"

        async def copy_part(number: int) -> None:
            first = (number - 1) * part
            last = min(size, first + part) - 1
            response = await self.call(
                "upload_part_copy",
                src,
                Bucket=dst_bucket,
                Key=dst_obj,
                UploadId=upload_id,
                PartNumber=number,
                CopySource=source,
                CopySourceRange=f"bytes={first}-{last}",
            )
            parts[number] = str(response["CopyPartResult"]["ETag"])

        failed = await run_bounded(range(1, -(-size // part) + 1), copy_part, self.options.max_concurrency)
        if failed:
            await self.abort_multipart(dst, upload_id)
            raise next(iter(failed.values()))
        await self.complete_multipart(dst, upload_id, parts)

    async def _streamed_copy(self, src: str, dst: str) -> None:
        """Copy through this client, part by part, for servers without ``UploadPartCopy``."""
        reader = await self.open_read(src)
        writer = await self.open_write(dst)
        try:
            while chunk := await reader.read(self.options.part_size):
                await writer.write(chunk)
        except BaseException:
            await writer.abort()
            raise
        finally:
            await reader.close()
        await writer.commit()

    async def delete_files(self, keys: Sequence[str]) -> dict[str, BaseException]:
        failed: dict[str, BaseException] = {}
        if not self.capabilities.bulk_delete:

            async def delete_one(key: str) -> None:
                bucket, obj = self.split(key)
                await self.call("delete_object", key, Bucket=bucket, Key=obj)

            return await run_bounded(keys, delete_one, self.options.max_concurrency)
        by_bucket: dict[str, list[str]] = {}
        for key in keys:
            bucket, obj = self.split(key)
            by_bucket.setdefault(bucket, []).append(obj)
        batches = [
            (bucket, objs[i : i + DELETE_BATCH])
            for bucket, objs in by_bucket.items()
            for i in range(0, len(objs), DELETE_BATCH)
        ]

        async def delete_batch(batch: tuple[str, list[str]]) -> None:
            bucket, objs = batch
            response = await self.call(
                "delete_objects",
                f"{bucket}/{objs[0]}",
                Bucket=bucket,
                Delete={"Objects": [{"Key": o} for o in objs], "Quiet": True},
            )
            for error in response.get("Errors", []):
                key = f"{bucket}/{error.get('Key')}"
                if error.get("Code") != "NoSuchKey":
                    failed[key] = StorageError(f"{key}: delete failed: {error.get('Code')} {error.get('Message')}")

        batch_failures = await run_bounded(range(len(batches)), lambda i: delete_batch(batches[i]), 4)
        for index, error in batch_failures.items():
            for obj in batches[index][1]:
                failed[f"{batches[index][0]}/{obj}"] = error
        return failed

    async def delete_folder(self, key: str) -> None:
        """Delete every object below ``key``, then every folder key of the tree, deepest first.

        Deleting the ``dir/`` key of every folder, marker or not, makes SeaweedFS drop the folder at once (it
        otherwise lists an emptied folder for about two minutes); deleting a key that does not exist is no error
        on S3. Files go first, in concurrent batches; the folder keys follow in their own, ordered, request
        (or in the same one when everything fits in one batch).
        """
        objects = await self._all_objects(key)
        files = [e.path for e in objects if not e.is_dir]
        folders = {key} | {e.path for e in objects if e.is_dir}
        for path in files:
            parent = path.rpartition("/")[0]
            while len(parent) > len(key) and parent not in folders:
                folders.add(parent)
                parent = parent.rpartition("/")[0]
        markers = [f + "/" for f in sorted(folders, key=lambda f: (-f.count("/"), f))]
        keys = files + markers
        if len(keys) <= DELETE_BATCH and self.capabilities.bulk_delete:
            failed = await self.delete_files(keys)  # one ordered request
        else:
            failed = await self.delete_files(files)
            if not failed:
                failed = await self.delete_files(markers)
        if failed:
            first = next(iter(failed.values()))
            raise PartialFailure(
                f"{key}: {len(failed)} of {len(keys)} objects could not be deleted (first: {first})",
                key,
                failed=dict(failed),
                done=[k for k in keys if k not in failed],
            )

    async def make_dir(self, key: str) -> None:
        if self.split(key)[1]:
            await self.put(key + "/", b"")

    # -- diagnosis --------------------------------------------------------------------------------------------
    async def diagnose(self) -> list[Check]:
        checks = [await self._check_reachable()]
        if not checks[0].ok:
            return checks
        bucket, obj = self.split(self.root)
        try:
            # A GET, not HEAD: HEAD answers have no body, so no error code to tell a bad secret from a bad bucket.
            response = await self.call("list_objects_v2", self.root, Bucket=bucket, Prefix=obj, MaxKeys=1)
        except StorageError as e:
            cause = e.__cause__
            skew = clock_skew_seconds(cause.response) if isinstance(getattr(cause, "response", None), dict) else None  # type: ignore[union-attr]
            checks.append(self._check_clock(skew))
            checks.append(Check("credentials and bucket", False, str(e), _fix_for(e)))
            return checks
        checks.append(Check("credentials", True, f"signed requests accepted (access key {self.advice.key_id})"))
        checks.append(self._check_clock(clock_skew_seconds(response)))
        checks.append(Check("bucket", True, f"bucket {bucket!r} exists"))
        try:
            entries = await self.list_dir(self.root)
        except StorageError as e:
            checks.append(Check("list", False, str(e), _fix_for(e)))
        else:
            checks.append(Check("list", True, f"{self.config.url} lists {len(entries)} entries"))
        caps = self.capabilities
        flags = ", ".join(f"{f.name}={getattr(caps, f.name)}" for f in fields(caps))
        checks.append(Check("capabilities", True, f"{self.product} profile: {flags}"))
        return checks

    async def _check_reachable(self) -> Check:
        endpoint = self.options.endpoint_url or "https://s3.amazonaws.com"
        parts = urllib.parse.urlsplit(endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, port), self.options.connect_timeout
            )
        except (OSError, asyncio.TimeoutError) as e:
            reason = "timed out" if isinstance(e, asyncio.TimeoutError) else (e.strerror or str(e))
            return Check(
                "reachable",
                False,
                f"cannot connect to {parts.hostname}:{port}: {reason}",
                "check endpoint_url, and that the server is running and reachable from this machine",
            )
        writer.close()
        return Check("reachable", True, f"{parts.hostname}:{port} accepts connections")

    def _check_clock(self, skew: float | None) -> Check:
        if skew is None:
            return Check("clock", True, "server sent no time; skew unknown")
        if abs(skew) > MAX_CLOCK_SKEW:
            return Check(
                "clock",
                False,
                f"this machine's clock differs from the server's by {abs(skew):.0f} s",
                "sync the clock (NTP: chrony or systemd-timesyncd)",
            )
        return Check("clock", True, f"clock within {abs(skew):.0f} s of the server's")

    async def close(self) -> None:
        await self.objects.close()
        if self._blocking is not None:
            self._blocking.close()
            self._blocking = None
        if self._client is not None:
            self._client = None
            await self.fs._s3creator.__aexit__(None, None, None)
            self.fs._s3 = None


def _date(response: Mapping[str, Any]) -> datetime | None:
    """The server's ``Date`` of a botocore answer."""
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    return parsedate_to_datetime(date) if date else None


def _fix_for(error: StorageError) -> str:
    """The short 'what to do' for a doctor line (the message already says it after the colon)."""
    return error.message.rsplit(": ", 1)[-1]
