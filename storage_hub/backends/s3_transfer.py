"""S3 transfers: streamed reads, atomic streamed writes, and whole objects moved in parallel parts.

Whole objects larger than a few MiB move in parallel parts, each in a worker thread on botocore's blocking client,
without copying the caller's bytes: a write uploads ``memoryview`` slices of them, a read receives every range
straight into the ``bytes`` object it returns (see :class:`BytesBuffer`). On a 2-core machine each full copy of a
512 MiB object costs about as much time as moving it to or from the server.
"""

from __future__ import annotations

import asyncio
import ctypes
import http.client
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import aiohttp
from botocore.exceptions import IncompleteReadError

from ..backend import ReadSession, WriteSession

if TYPE_CHECKING:
    from .s3 import S3Backend

__all__ = [
    "BytesBuffer",
    "MultipartWriteSession",
    "S3ReadSession",
    "read_body_into",
    "read_parts",
    "run_parts",
    "upload_parts",
    "whole_part_size",
]

MiB = 2**20
MAX_PARTS = 10_000
#: Whole-object writes: WRITE_CONCURRENCY parts in flight, each of WRITE_PART bytes (fewer for a smaller object,
#: so that every stream gets one; never less than the store's ``part_size``). Whole-object reads: READ_CONCURRENCY
#: ranged GETs in flight of READ_PART bytes each. Chosen by measurement on SeaweedFS with 2 cores (see
#: benchmarks/README.md). Writes: parts of 8 to 64 MiB, 2 to 4 in flight, all went at the server's pace (it spends
#: ~11 s of CPU per GiB written); 32 MiB x 4 used the least CPU. Reads: one stream already keeps ~1.6 of the 2 cores
#: busy (client and local server), so 4 streams ran 10-15 % faster than one GET when a core was free but up to 13 %
#: slower when the machine was loaded, for ~10 % more CPU; 2 streams of 64 MiB ranges cost ~4 % more CPU than one.
WRITE_CONCURRENCY = 4
WRITE_PART = 32 * MiB
READ_CONCURRENCY = 2
READ_PART = 64 * MiB
#: Fallback read size when a body cannot be read straight into the buffer.
COPY_CHUNK = MiB


def whole_part_size(size: int, part_size: int) -> int:
    """The part size of a whole-object multipart write of ``size`` bytes (``part_size``: the store's minimum)."""
    return max(part_size, min(WRITE_PART, -(-size // WRITE_CONCURRENCY)), -(-size // MAX_PARTS))


async def run_parts(jobs: Iterable[Callable[[], Awaitable[None]]], limit: int) -> None:
    """Run ``jobs`` with at most ``limit`` at once; the first failure stops the rest and is raised.

    Jobs already running are waited for before the failure is raised: they run in worker threads that cannot be
    stopped, so an upload is aborted only once no part of it is still being sent. Cancellation does not wait.
    """
    running: set[asyncio.Future[None]] = set()

    async def settle(until: int) -> None:
        nonlocal running
        while len(running) > until:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            errors = [e for e in (task.exception() for task in done) if e is not None]
            if errors:
                raise errors[0]

    try:
        for job in jobs:
            await settle(limit - 1)
            running.add(asyncio.ensure_future(job()))
        await settle(0)
    except asyncio.CancelledError:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise
    except BaseException:
        await asyncio.gather(*running, return_exceptions=True)
        raise


async def upload_parts(backend: S3Backend, key: str, upload_id: str, data: bytes) -> dict[int, str]:
    """Upload ``data`` to multipart upload ``upload_id`` in parallel parts; returns their ETags by part number.

    The parts are ``memoryview`` slices of ``data``: nothing is copied, and memory stays what the caller holds.
    """
    view = memoryview(data)
    part = whole_part_size(len(data), backend.options.part_size)
    etags: dict[int, str] = {}

    def job(number: int, start: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            etags[number] = await backend.upload_part(key, upload_id, number, view[start : start + part])

        return run

    await run_parts((job(n, start) for n, start in enumerate(range(0, len(data), part), 1)), WRITE_CONCURRENCY)
    return etags


class BytesBuffer:
    """``size`` bytes filled in place through :attr:`view` (from any thread), then returned as ``bytes``.

    On CPython the ``bytes`` object is created uninitialised and filled before anything else can see it, which
    the C API allows for a bytes object just made by ``PyBytes_FromStringAndSize(NULL, size)`` (see
    ``PyBytes_AsString``): neither a zero-fill nor a final copy, each of which costs about as long as receiving
    the data on a 2-core VM. Elsewhere it is a ``bytearray``, copied once by :meth:`result`. Whoever writes into
    :attr:`view` must hold a reference to this object until done: the view does not keep the ``bytes`` alive.
    """

    def __init__(self, size: int) -> None:
        self._bytes: bytes | None = None
        self._array: bytearray | None = None
        if _PY_BYTES is not None and size:
            new, address = _PY_BYTES
            self._bytes = new(None, size)
            self.view = memoryview((ctypes.c_char * size).from_address(address(self._bytes))).cast("B")
        else:
            self._array = bytearray(size)
            self.view = memoryview(self._array)

    def result(self) -> bytes:
        """The filled bytes; the buffer is not to be written after this."""
        self.view.release()
        if self._bytes is not None:
            return self._bytes
        assert self._array is not None
        return bytes(self._array)


def _py_bytes_api() -> tuple[Callable[..., bytes], Callable[[bytes], int]] | None:
    if sys.implementation.name != "cpython":
        return None
    try:
        new = ctypes.pythonapi.PyBytes_FromStringAndSize
        address = ctypes.pythonapi.PyBytes_AsString
    except AttributeError:  # pragma: no cover - CPython always has them
        return None
    new.restype, new.argtypes = ctypes.py_object, (ctypes.c_void_p, ctypes.c_ssize_t)
    address.restype, address.argtypes = ctypes.c_void_p, (ctypes.py_object,)
    return new, address


_PY_BYTES = _py_bytes_api()


def read_body_into(body: Any, view: memoryview) -> None:
    """Read a botocore streaming ``body`` of exactly ``len(view)`` bytes into ``view``.

    http.client's ``readinto`` receives straight into the view where botocore's body is the usual urllib3 one over
    http.client (its own ``readinto`` reads into a temporary first); anything else is read in chunks. Raises
    botocore's ``IncompleteReadError`` if the body ends early.
    """
    raw = getattr(body, "_raw_stream", None)
    fp = getattr(raw, "_fp", None)
    direct = fp if isinstance(fp, http.client.HTTPResponse) else None
    got = 0
    try:
        while got < len(view):
            if direct is not None:
                n = direct.readinto(view[got:])
            else:
                chunk = body.read(min(len(view) - got, COPY_CHUNK))
                n = len(chunk)
                view[got : got + n] = chunk
            if not n:
                break
            got += n
    except BaseException:
        body.close()
        raise
    if got != len(view):
        body.close()
        raise IncompleteReadError(actual_bytes=got, expected_bytes=len(view))
    release = getattr(raw, "release_conn", None)
    if direct is not None and direct.isclosed() and release is not None:
        release()  # read to its end: the connection goes back to urllib3's pool for the next request
    else:
        body.close()


async def read_parts(backend: S3Backend, key: str, *, size: int, etag: str | None, head: bytes) -> bytes:
    """The whole object ``key`` of ``size`` bytes: its first bytes ``head`` (the body of a GET already answered),
    the rest in parallel ranged GETs of ``READ_PART`` bytes, all straight into the result.

    Raises ``Conflict`` if a range comes from another version of the object than the one with ``etag``.
    """
    buffer = BytesBuffer(size)
    buffer.view[: len(head)] = head

    def job(start: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await backend.read_range_into(key, buffer, start, min(size, start + READ_PART), etag)

        return run

    await run_parts([job(start) for start in range(len(head), size, READ_PART)], READ_CONCURRENCY)
    return buffer.result()


class S3ReadSession(ReadSession):
    """One GET whose body is read as the caller asks."""

    def __init__(self, backend: S3Backend, key: str, response: aiohttp.ClientResponse) -> None:
        self._backend = backend
        self._key = key
        self._response = response
        self.size = int(response.headers.get("Content-Length", 0))

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes: what has arrived (waiting for the first), not copied into one piece of ``n``."""
        with self._backend.errors(self._key):
            return await self._response.content.read(n)

    async def close(self) -> None:
        self._response.close()


class MultipartWriteSession(WriteSession):
    """Buffers one part; the first full part starts a multipart upload, with a bounded number of parts in flight.

    Memory held is at most ``part_size * (max_in_flight + 1)``. Nothing is visible at the key until
    :meth:`commit` (one ``PutObject`` for a small object, else ``CompleteMultipartUpload``); any failure aborts the
    upload so no part lingers on the server.
    """

    def __init__(self, backend: S3Backend, key: str, part_size: int, max_in_flight: int) -> None:
        self._backend = backend
        self._key = key
        self._bucket, self._object = backend.split(key)
        self._part_size = part_size
        self._max_in_flight = max_in_flight
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: dict[int, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._next = 1
        self._closed = False

    def _current_part_size(self) -> int:
        # Grow parts every 1,000 so that 10,000 parts reach far beyond 5 GiB.
        return self._part_size * (1 + (self._next - 1) // 1000)

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise ValueError(f"{self._key}: write after commit or abort")
        self._buffer += data
        try:
            while len(self._buffer) >= self._current_part_size():
                size = self._current_part_size()
                with memoryview(self._buffer) as view:
                    part = bytes(view[:size])  # one copy (slicing the bytearray itself would make two)
                del self._buffer[:size]
                await self._send_part(part)
        except BaseException:
            await self.abort()
            raise

    async def _send_part(self, data: bytes) -> None:
        if self._next > MAX_PARTS:
            raise ValueError(f"{self._key}: object exceeds {MAX_PARTS} parts")
        if self._upload_id is None:
            self._upload_id = await self._backend.create_multipart(self._key)
        while len(self._tasks) >= self._max_in_flight:
            done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
            self._tasks -= done
            # Every finished part's outcome is looked at, so no failure goes unretrieved; the first is raised.
            errors = [task.exception() for task in done if not task.cancelled()]
            for error in errors:
                if error is not None:
                    raise error
        number, self._next = self._next, self._next + 1
        task = asyncio.ensure_future(self._upload(number, data))
        self._tasks.add(task)

    async def _upload(self, number: int, data: bytes) -> None:
        assert self._upload_id is not None
        self._parts[number] = await self._backend.upload_part(self._key, self._upload_id, number, data)

    async def commit(self) -> None:
        if self._closed:
            raise ValueError(f"{self._key}: commit after commit or abort")
        try:
            if self._upload_id is None:
                data, self._buffer = bytes(self._buffer), bytearray()
                await self._backend.put(self._key, data)
            else:
                if self._buffer:
                    await self._send_part(bytes(self._buffer))
                    self._buffer = bytearray()
                tasks, self._tasks = list(self._tasks), set()
                for result in await asyncio.gather(*tasks, return_exceptions=True):
                    if isinstance(result, BaseException):
                        raise result
                await self._backend.complete_multipart(self._key, self._upload_id, self._parts)
        except BaseException:
            await self.abort()
            raise
        self._closed = True

    async def abort(self) -> None:
        self._closed = True
        self._buffer = bytearray()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = set()
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is not None:
            await self._backend.abort_multipart(self._key, upload_id)
