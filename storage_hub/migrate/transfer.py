"""Copy one file between two stores and prove it arrived whole.

- Same server, same credentials: one server-side copy (``CopyObject``; ``UploadPartCopy`` or a streamed copy above
  5 GiB, as the server allows).
- Else small files (up to :data:`WHOLE_LIMIT`): one GET and one PUT.
- Else a streamed copy: ranged reads into a multipart upload, memory bounded whatever the size.

Verification: the size, and a checksum. Where the destination gives a plain MD5 ETag it is compared with the MD5 of
the bytes that were sent (no extra request); otherwise the destination is read back and its sha256 compared with
the sha256 of what was read from the source. The source's bytes are checked against its own plain MD5 ETag, when it
has one, as they are read. Any write is atomic at the destination: an interrupted copy leaves nothing at the path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..backend import Entry
from ..errors import StorageError
from ..store import AsyncStore
from .plan import HASH_CHUNK, plain_md5, sha256_of

__all__ = ["ChecksumMismatch", "Copied", "copy_verified"]

#: Files up to this size are copied with one GET and one PUT.
WHOLE_LIMIT = 8 * 2**20


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


def _check_source(entry: Entry, md5: str) -> None:
    expected = plain_md5(entry.etag)
    if expected and expected != md5:
        raise ChecksumMismatch(f"{entry.path}: the bytes read from the source do not match its MD5", entry.path)


async def _verify_sent(dst: AsyncStore, path: str, size: int, md5: str, sha256: str | None) -> str:
    target = await dst.info(path)
    if target.size != size:
        raise ChecksumMismatch(f"{path}: {target.size} bytes at the destination, {size} sent", path)
    if plain_md5(target.etag):
        if plain_md5(target.etag) != md5:
            raise ChecksumMismatch(f"{path}: the destination's MD5 differs from the bytes sent", path)
        return f"md5:{md5}"
    if sha256 is None:
        raise AssertionError("a sha256 is needed when the destination has no MD5")
    if await sha256_of(dst, path) != sha256:
        raise ChecksumMismatch(f"{path}: the destination's sha256 differs from the bytes sent", path)
    return f"sha256:{sha256}"


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


async def copy_verified(src: AsyncStore, dst: AsyncStore, entry: Entry, target: str | None = None) -> Copied:
    """Copy file ``entry`` of ``src`` to ``target`` (default: the same path) in ``dst``, then verify it; raises
    :class:`ChecksumMismatch` on any difference."""
    path = target or entry.path
    if await dst.copy_from(src, entry.path, path, entry.size):
        return Copied(path, entry.size, "server-side", await _verify_copy(src, entry, dst, path))
    if entry.size <= WHOLE_LIMIT:
        data = await src.read_bytes(entry.path)
        md5 = hashlib.md5(data).hexdigest()
        _check_source(entry, md5)
        await dst.write_bytes(path, data)
        sha256 = hashlib.sha256(data).hexdigest()
        return Copied(path, len(data), "whole", await _verify_sent(dst, path, len(data), md5, sha256))
    md5_digest, sha_digest, size = hashlib.md5(), hashlib.sha256(), 0
    reader = await src.open_read(entry.path)
    try:
        async with await dst.open_write(path) as writer:
            while chunk := await reader.read(HASH_CHUNK):
                md5_digest.update(chunk)
                sha_digest.update(chunk)
                size += len(chunk)
                await writer.write(chunk)
            _check_source(entry, md5_digest.hexdigest())  # before the commit: a bad read publishes nothing
    finally:
        await reader.close()
    return Copied(
        path, size, "streamed", await _verify_sent(dst, path, size, md5_digest.hexdigest(), sha_digest.hexdigest())
    )
