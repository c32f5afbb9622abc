"""Copy one file between two stores and prove it arrived whole.

- Same server, same credentials: one server-side copy (``CopyObject``; ``UploadPartCopy`` or a streamed copy above
  5 GiB, as the server allows).
- Else files over :data:`PIPE_FROM` whose source gives its MD5, to a destination that checks writes: piped, the
  source read as a stream into one write the destination's server checks against that MD5 (memory: two chunks).
- Else files up to :data:`WHOLE_LIMIT`: one GET and one PUT, the bytes held in memory (within a
  :class:`MemoryBudget` shared by the copies in flight).
- Else a streamed copy: ranged reads into a multipart upload, memory bounded whatever the size.

Verification: the size, and a checksum. A whole copy sends the source's MD5 (its plain ETag, else computed) with
the bytes, so the destination refuses bytes that differ (``Content-MD5`` on S3), and where the destination gives a
plain MD5 ETag it is compared with it: for a whole copy the ETag of the PUT's own answer (the server's MD5 of what
it stored, the same value a HEAD would return, so no extra request), else the one a HEAD returns. Otherwise the
destination is read back and its sha256 compared with the sha256 of what was read from the source. A streamed
copy checks the source's bytes against its own plain MD5 ETag, when it has one, as they are read. Any write is
atomic at the destination: an interrupted copy leaves nothing at the path.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ..backend import Entry
from ..errors import ChecksumMismatch
from ..store import AsyncStore
from .plan import HASH_CHUNK, plain_md5, sha256_of

__all__ = ["Copied", "MemoryBudget", "copy_verified"]

MiB = 2**20
#: Files up to this size are copied with one GET and one PUT. A single PUT answers with the MD5 of the object, so
#: these copies are verified without reading the destination back (a multipart upload's ETag is no MD5).
WHOLE_LIMIT = 64 * MiB
#: Larger files whose source gives their MD5 (a plain ETag) are piped when the destination checks writes
#: (``checked_writes``): read as a stream, ``PIPE_CHUNK`` bytes at a time, into one write that the destination's
#: server refuses unless the bytes have that MD5 (S3: one PUT with ``Content-MD5``, up to 5 GiB), its answer's
#: ETag then proving what it stored. Nothing is hashed here and the memory held is two chunks, whatever the size.
PIPE_FROM = 8 * MiB
PIPE_CHUNK = MiB
PIPE_MEMORY = 2 * PIPE_CHUNK
#: What a streamed copy holds at most: the chunk read, and the parts of a multipart upload being sent (S3: 8 MiB
#: parts, 3 in flight, one filling).
STREAM_MEMORY = 40 * MiB
#: Above this many bytes, hashing runs in a worker thread: ``hashlib`` then releases the GIL, so the event loop
#: keeps serving the other copies (an MD5 of 50 MiB takes about 0.1 s).
THREAD_HASH = MiB


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
            raise ChecksumMismatch(f"{entry.path}: the copy's MD5 differs from the source's", entry.path)
        return f"md5:{left}"
    digest = await sha256_of(src, entry.path)
    if await sha256_of(dst, path) != digest:
        raise ChecksumMismatch(f"{entry.path}: the copy's sha256 differs from the source's", entry.path)
    return f"sha256:{digest}"


async def _copy_whole(src: AsyncStore, entry: Entry, dst: AsyncStore, path: str) -> Copied:
    data = await src.read_bytes(entry.path)
    # The source's MD5 (its plain ETag) goes with the bytes: the destination refuses bytes that differ from it,
    # so a bad read is never written, and the MD5 in the PUT's answer proves what was stored (no HEAD, and
    # nothing hashed here). Without one it is computed here, to the same end.
    md5 = plain_md5(entry.etag) or await _digest(hashlib.md5, data)
    written = await dst.write_bytes(path, data, md5=md5)
    checksum = _check_md5(path, written, len(data), md5) or await _verify_sent(
        dst, path, len(data), md5, lambda: _digest(hashlib.sha256, data)
    )
    return Copied(path, len(data), "whole", checksum)


async def _copy_piped(src: AsyncStore, entry: Entry, dst: AsyncStore, path: str) -> Copied:
    md5 = plain_md5(entry.etag)
    assert md5 is not None  # chosen only for such files (see _method)
    chunks = src.iter_bytes(entry.path, PIPE_CHUNK)
    written = await dst.write_stream(path, chunks, size=entry.size, md5=md5)
    checksum = _check_md5(path, written, entry.size, md5) or await _verify_copy(src, entry, dst, path)
    return Copied(path, entry.size, "piped", checksum)


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


CopyMethod = Callable[[AsyncStore, Entry, AsyncStore, str], Awaitable[Copied]]


def _method(entry: Entry, dst: AsyncStore) -> tuple[CopyMethod, int]:
    """How to copy ``entry`` to ``dst`` (other than server-side), and the bytes that copy holds."""
    limit = dst.capabilities.max_single_put
    if (
        plain_md5(entry.etag)
        and entry.size > PIPE_FROM
        and dst.capabilities.checked_writes
        and (limit is None or entry.size <= limit)
    ):
        return _copy_piped, PIPE_MEMORY
    if entry.size <= WHOLE_LIMIT:
        return _copy_whole, entry.size
    return _copy_streamed, STREAM_MEMORY


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
    copy, holds = _method(entry, dst)
    if memory is None:
        return await copy(src, entry, dst, path)
    async with memory.hold(holds):
        return await copy(src, entry, dst, path)
