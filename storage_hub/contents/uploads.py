"""Chunked uploads (JupyterLab sends ``chunk`` 1, 2, ..., -1) streamed into one atomic store write.

Each chunk goes straight into the store's streamed write (an S3 multipart upload, a temporary file on local disk),
so memory does not grow with the file and nothing appears at the path until the last chunk commits. An upload
that stops sending chunks is aborted after ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..store import AsyncStore, AsyncWriter

__all__ = ["ChunkError", "ChunkedUploads"]


class ChunkError(ValueError):
    """A chunk arrived that does not continue an upload in progress."""


@dataclass
class _Upload:
    writer: AsyncWriter
    next_chunk: int = 2
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class ChunkedUploads:
    """The uploads in progress of one contents manager, by path."""

    def __init__(self, store: AsyncStore, timeout: float) -> None:
        self._store = store
        self.timeout = timeout
        self._uploads: dict[str, _Upload] = {}

    def __contains__(self, path: str) -> bool:
        return path in self._uploads

    async def receive(self, path: str, chunk: int, data: bytes) -> bool:
        """Add chunk number ``chunk`` (``-1`` for the last) of ``path``; returns whether the file is complete.

        Raises
        ------
        ChunkError
            For a chunk out of order, or a continuation with no upload in progress.
        """
        if chunk == 1:
            await self.abort(path)
            self._uploads[path] = _Upload(await self._store.open_write(path))
        upload = self._uploads.get(path)
        if upload is None:
            raise ChunkError(f"no upload in progress for {path} (chunk {chunk} arrived first)")
        if chunk not in (upload.next_chunk, -1) and chunk != 1:
            await self.abort(path)
            raise ChunkError(f"chunk {chunk} of {path} arrived out of order (expected {upload.next_chunk})")
        try:
            await upload.writer.write(data)
            if chunk == -1:
                del self._uploads[path]
                self._cancel_timer(upload)
                await upload.writer.commit()
                return True
        except BaseException:
            await self.abort(path)
            raise
        upload.next_chunk = chunk + 1
        self._arm_timer(path, upload)
        return False

    def _arm_timer(self, path: str, upload: _Upload) -> None:
        self._cancel_timer(upload)
        loop = asyncio.get_running_loop()
        upload.timer = loop.call_later(self.timeout, lambda: asyncio.ensure_future(self._expire(path, upload)))

    @staticmethod
    def _cancel_timer(upload: _Upload) -> None:
        if upload.timer is not None:
            upload.timer.cancel()
            upload.timer = None

    async def _expire(self, path: str, upload: _Upload) -> None:
        if self._uploads.get(path) is upload:
            await self.abort(path)

    async def abort(self, path: str) -> None:
        """Drop the upload in progress for ``path``, if any; nothing is left at the path or on the server."""
        upload = self._uploads.pop(path, None)
        if upload is not None:
            self._cancel_timer(upload)
            await upload.writer.abort()

    async def abort_all(self) -> None:
        for path in list(self._uploads):
            await self.abort(path)
