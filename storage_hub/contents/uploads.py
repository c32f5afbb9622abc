"""Chunked uploads (JupyterLab sends ``chunk`` 1, 2, ..., -1) streamed into one atomic store write.

Each chunk goes straight into the store's streamed write (an S3 multipart upload, a temporary file on local disk),
so memory does not grow with the file and nothing appears at the path until the last chunk commits. An upload
that stops sending chunks is aborted after ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..errors import NotFound
from ..store import AsyncStore, AsyncWriter

__all__ = ["ChunkedUploads", "UploadExpired"]


class UploadExpired(ValueError):
    """A chunk arrived for an upload that was aborted for being idle too long."""


@dataclass
class _Upload:
    writer: AsyncWriter
    size: int = 0
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class ChunkedUploads:
    """The uploads in progress of one contents manager, by path.

    As jupyter_server's LargeFileManager: chunk 1 starts the file over, every other chunk appends, and ``-1`` is
    the last. Unlike it, the file is replaced only when the last chunk arrives, in one step; a chunk that
    continues a file with no upload in progress here appends to the file's current content.
    """

    def __init__(self, store: AsyncStore, timeout: float) -> None:
        self._store = store
        self.timeout = timeout
        self._uploads: dict[str, _Upload] = {}
        self._expired: set[str] = set()

    def __contains__(self, path: str) -> bool:
        return path in self._uploads

    async def receive(self, path: str, chunk: int, data: bytes) -> int:
        """Add chunk ``chunk`` (``-1`` for the last) of ``path``; returns the bytes received so far.

        After the last chunk the file is in the store; before it, nothing at ``path`` has changed.
        """
        upload = self._uploads.get(path)
        if chunk == 1:
            self._expired.discard(path)
        elif path in self._expired:
            # Appending to what is there would make a file of the late chunks alone.
            self._expired.discard(path)
            raise UploadExpired(
                f"the upload of {path} was aborted after {self.timeout:g} s without a chunk; start it again"
            )
        if chunk == 1 or upload is None:
            await self.abort(path)
            upload = self._uploads[path] = _Upload(await self._store.open_write(path))
            if chunk != 1:
                await self._append_current(path, upload)
        try:
            await upload.writer.write(data)
            upload.size += len(data)
            if chunk == -1:
                del self._uploads[path]
                self._cancel_timer(upload)
                await upload.writer.commit()
                return upload.size
        except BaseException:
            await self.abort(path)
            raise
        self._arm_timer(path, upload)
        return upload.size

    async def _append_current(self, path: str, upload: _Upload) -> None:
        try:
            reader = await self._store.open_read(path)
        except NotFound:
            return
        try:
            while block := await reader.read(8 * 2**20):
                await upload.writer.write(block)
                upload.size += len(block)
        finally:
            await reader.close()

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
            self._expired.add(path)

    async def abort(self, path: str) -> None:
        """Drop the upload in progress for ``path``, if any; nothing is left at the path or on the server."""
        upload = self._uploads.pop(path, None)
        if upload is not None:
            self._cancel_timer(upload)
            await upload.writer.abort()

    async def abort_all(self) -> None:
        for path in list(self._uploads):
            await self.abort(path)
