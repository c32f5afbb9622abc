"""Blocking file objects over a store: a seekable reader and an atomic writer."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

    from .store import AsyncWriter

__all__ = ["ReadFile", "WriteFile"]

R = TypeVar("R")
Blocking = Callable[[Coroutine[Any, Any, Any]], Any]

FLUSH_SIZE = 8 * 2**20


class ReadFile(io.RawIOBase):
    """Raw, seekable reads of one object by byte ranges; wrap it in :class:`io.BufferedReader`.

    ``fetch(start, end)`` returns the bytes in ``[start, end)``; each call is one ranged request.
    """

    def __init__(self, size: int, fetch: Callable[[int, int], bytes]) -> None:
        super().__init__()
        self.size = size
        self._fetch = fetch
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        end = min(self._pos + len(view), self.size)
        if end <= self._pos:
            return 0
        data = self._fetch(self._pos, end)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def readall(self) -> bytes:
        if self._pos >= self.size:
            return b""
        data = self._fetch(self._pos, self.size)
        self._pos += len(data)
        return data


class WriteFile(io.RawIOBase):
    """A streamed atomic write: buffered, committed by :meth:`close`, aborted when a ``with`` block raises."""

    def __init__(self, writer: AsyncWriter, blocking: Blocking) -> None:
        super().__init__()
        self._writer = writer
        self._blocking = blocking
        self._buffer = bytearray()
        self._written = 0
        self._done = False

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def write(self, data: ReadableBuffer) -> int:
        if self.closed:
            raise ValueError("write to a closed file")
        chunk = memoryview(data).cast("B")
        self._buffer += chunk
        self._written += len(chunk)
        if len(self._buffer) >= FLUSH_SIZE:
            self._send()
        return len(chunk)

    def _send(self) -> None:
        data, self._buffer = bytes(self._buffer), bytearray()
        self._blocking(self._writer.write(data))

    def abort(self) -> None:
        """Drop what was written; nothing appears at the path."""
        if not self._done:
            self._done = True
            self._buffer.clear()
            self._blocking(self._writer.abort())
        super().close()

    def close(self) -> None:
        """Send what is buffered and make the object visible. On failure the write is aborted."""
        if self.closed:
            return
        if not self._done:
            try:
                if self._buffer:
                    self._send()
                self._blocking(self._writer.commit())
            except BaseException:
                self.abort()
                raise
            self._done = True
        super().close()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    def __del__(self) -> None:
        # A writer dropped without close() must not publish a partial object.
        if not self._done:
            with contextlib.suppress(Exception):  # nothing may be raised from __del__
                self.abort()
