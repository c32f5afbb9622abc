"""Copy one file between two stores and prove it arrived whole.

- Same server, same credentials: one server-side copy (``CopyObject``; ``UploadPartCopy`` or a streamed copy above
  5 GiB, as the server allows).
- Else files up to :data:`WHOLE_LIMIT`: one GET and one PUT, the bytes held in memory (within a
  :class:`MemoryBudget` shared by the copies in flight).
- Else a streamed copy: ranged reads into a multipart upload, memory bounded whatever the size.

Verification: the size, and a checksum. Where the destination gives a plain MD5 ETag it is compared with the MD5 of
the bytes that were sent: for a whole copy the ETag of the PUT's own answer (the server's MD5 of what it stored,
the same value a HEAD would return, so no extra request), else the one a HEAD returns. Otherwise the destination
is read back and its sha256 compared with the sha256 of what was read from the source. The source's bytes are
checked against its own plain MD5 ETag, when it has one, as they are read. Any write is atomic at the destination:
an interrupted copy leaves nothing at the path.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ..backend import Entry
from ..errors import StorageError
from ..store import AsyncStore
from .plan import HASH_CHUNK, plain_md5, sha256_of

__all__ = ["ChecksumMismatch", "Copied", "MemoryBudget", "copy_verified"]

MiB = 2**20
#: Files up to this size are copied with one GET and one PUT. A single PUT answers with the MD5 of the object, so
#: these copies are verified without reading the destination back (a multipart upload's ETag is no MD5).
WHOLE_LIMIT = 64 * MiB
#: What a streamed copy holds at most: the chunk read, and the parts of a multipart upload being sent (S3: 8 MiB
#: parts, 3 in flight, one filling).
STREAM_MEMORY = 40 * MiB
#: Above this many bytes, hashing runs in a worker thread: ``hashlib`` then releases the GIL, so the event loop
#: keeps serving the other copies (an MD5 of 50 MiB takes about 0.1 s).
THREAD_HASH = MiB


class ChecksumMismatch(StorageError, OSError):
    """The bytes at the destination (or those read from the source) are not the source's."""


@dataclass(frozen=True)
class Copied:
    path: str
    size: int
    #: ``server-side``, ``whole`` or ``streamed``.
    method: str
    #: How it was verified: ``md5:<hex>`` or ``sha256:<hex>``.
    checksum: str


class MemoryBudget:
    """Bytes that the copies in flight may hold together: a copy waits until its share is free.

    With many small files the number of jobs is the limit; with large ones this is (16 jobs of 50 MiB files hold
    256 MiB, not 800 MiB). A share larger than the whole budget is cut to the budget, so it runs alone.
    """

    def __init__(self, nbytes: int) -> None:
        if nbytes < 1:
            raise ValueError(f"a memory budget must be positive, not {nbytes!r}")
        self.total = nbytes
        self._free = nbytes
        self._released = asyncio.Event()

    @asynccontextmanager
    async def hold(self, nbytes: int) -> AsyncIterator[None]:
        share = min(max(nbytes, 0), self.total)
        while self._free < share:
            self._released.clear()
            await self._released.wait()
        self._free -= share
        try:
            yield
        finally:  # no await here: a cancelled copy gives its share back too
            self._free += share
            self._released.set()


async def _digest(factory: Callable[[bytes], hashlib._Hash], data: bytes) -> str:
    if len(data) > THREAD_HASH:
        return await asyncio.to_thread(lambda: factory(data).hexdigest())
    return factory(data).hexdigest()


async def _update(*hashes: hashlib._Hash, data: bytes) -> None:
    def update() -> None:
        for h in hashes:
            h.update(data)

    if len(data) > THREAD_HASH:
        await asyncio.to_thread(update)
    else:
        update()


def _check_source(entry: Entry, md5: str) -> None:
    expected = plain_md5(entry.etag)
    if expected and expected != md5:
        raise ChecksumMismatch(f"{entry.path}: the bytes read from the source do not match its MD5", entry.path)


def _check_md5(path: str, target: Entry, size: int, md5: str) -> str | None:
    """``md5:<hex>`` if ``target`` proves the bytes sent arrived; ``None`` if it has no MD5 to tell."""
    etag = plain_md5(target.etag)
    if etag is None:
        return None
    if target.size != size:
        raise ChecksumMismatch(f"{path}: {target.size} bytes at the destination, {size} sent", path)
    if etag != md5:
        raise ChecksumMismatch(f"{path}: the destination's MD5 differs from the bytes sent", path)
    return f"md5:{md5}"


async def _verify_sent(dst: AsyncStore, path: str, size: int, md5: str, sha256: Callable[[], Awaitable[str]]) -> str:
    """Verify against the destination's entry (one HEAD on S3), and its content read back where that has no MD5.

    ``sha256`` gives the sha256 of the bytes sent: asked only if needed.
    """
    target = await dst.info(path)
    if target.size != size:
        raise ChecksumMismatch(f"{path}: {target.size} bytes at the destination, {size} sent", path)
    checked = _check_md5(path, target, size, md5)
    if checked:
        return checked
    expected = await sha256()
    if await sha256_of(dst, path) != expected:
        raise ChecksumMismatch(f"{path}: the destination's sha256 differs from the bytes sent", path)
    return f"sha256:{expected}"


async def _verify_copy(src: AsyncStore, entry: Entry, dst: AsyncStore, path: str) -> str:
    target = await dst.info(path)
    if target.size != entry.size:
        raise ChecksumMismatch(f"{entry.path}: {target.size} bytes at the destination, {entry.size} at the source")
    left, right = plain_md5(entry.etag), plain_md5(target.etag)
    if left and right:
        if left != right:
            raise ChecksumMismatch(f"{entry.path}: the server-side copy's MD5 differs from the source's", entry.path)
        return f"md5:{left}"
    digest = await sha256_of(src, entry.path)
    if await sha256_of(dst, path) != digest:
        raise ChecksumMismatch(f"{entry.path}: the server-side copy's sha256 differs from the source's", entry.path)
    return f"sha256:{digest}"


async def _copy_whole(src: AsyncStore, entry: Entry, dst: AsyncStore, path: str) -> Copied:
    data = await src.read_bytes(entry.path)
    md5 = await _digest(hashlib.md5, data)
    _check_source(entry, md5)
    written = await dst.write_bytes(path, data)
    # The PUT's answer carries the server's MD5 of what it stored: no HEAD needed when it is a plain MD5.
    checksum = _check_md5(path, written, len(data), md5) or await _verify_sent(
        dst, path, len(data), md5, lambda: _digest(hashlib.sha256, data)
    )
    return Copied(path, len(data), "whole", checksum)


async def _copy_streamed(src: AsyncStore, entry: Entry, dst: AsyncStore, path: str) -> Copied:
    md5, sha256, size = hashlib.md5(), hashlib.sha256(), 0
    reader = await src.open_read(entry.path)
    try:
        async with await dst.open_write(path) as writer:
            while chunk := await reader.read(HASH_CHUNK):
                await _update(md5, sha256, data=chunk)
                size += len(chunk)
                await writer.write(chunk)
            _check_source(entry, md5.hexdigest())  # before the commit: a bad read publishes nothing
    finally:
        await reader.close()

    async def sent_sha256() -> str:
        return sha256.hexdigest()

    checksum = await _verify_sent(dst, path, size, md5.hexdigest(), sent_sha256)
    return Copied(path, size, "streamed", checksum)


async def copy_verified(
    src: AsyncStore, dst: AsyncStore, entry: Entry, target: str | None = None, *, memory: MemoryBudget | None = None
) -> Copied:
    """Copy file ``entry`` of ``src`` to ``target`` (default: the same path) in ``dst``, then verify it; raises
    :class:`ChecksumMismatch` on any difference.

    ``memory``, shared by concurrent copies, bounds the bytes they hold together (none: no bound but each copy's).
    """
    path = target or entry.path
    if await dst.copy_from(src, entry.path, path, entry.size):
        return Copied(path, entry.size, "server-side", await _verify_copy(src, entry, dst, path))
    whole = entry.size <= WHOLE_LIMIT
    if memory is None:
        return await (_copy_whole if whole else _copy_streamed)(src, entry, dst, path)
    async with memory.hold(entry.size if whole else STREAM_MEMORY):
        return await (_copy_whole if whole else _copy_streamed)(src, entry, dst, path)
