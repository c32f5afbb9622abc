"""Streamed S3 reads and atomic streamed writes (one PUT when small, multipart when large)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..backend import ReadSession, WriteSession

if TYPE_CHECKING:
    from .s3 import S3Backend

__all__ = ["MultipartWriteSession", "S3ReadSession"]

MAX_PARTS = 10_000


class S3ReadSession(ReadSession):
    """One GET whose body is read as the caller asks."""

    def __init__(self, backend: S3Backend, key: str, response: dict[str, Any]) -> None:
        self._backend = backend
        self._key = key
        self._body = response["Body"]
        self.size = int(response["ContentLength"])

    async def read(self, n: int = -1) -> bytes:
        with self._backend.errors(self._key):
            if n < 0:
                data: bytes = await self._body.read()
                return data
            chunks: list[bytes] = []
            want = n
            while want > 0:
                chunk = await self._body.read(want)
                if not chunk:
                    break
                chunks.append(chunk)
                want -= len(chunk)
            return b"".join(chunks)

    async def close(self) -> None:
        self._body.close()


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
                part = bytes(self._buffer[:size])
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
            for task in done:
                self._tasks.discard(task)
                task.result()
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
