"""The plan of a migration: what to copy, what is already there (identical), what conflicts, which empty folders.

Identical means same size and same content: the ETags when both are plain MD5s (one listing, no extra request),
else a streamed sha256 of both sides.

An empty file at the destination where the source's file has content is no conflict: it is copied over, as it
holds nothing to lose. SeaweedFS leaves exactly such a file when an upload is cut off after its headers (a server
that went away mid-migration), and the rerun must be able to finish the job.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from .. import paths
from ..backend import Entry, run_bounded
from ..errors import NotFound, PartialFailure
from ..store import AsyncStore

__all__ = ["Conflict", "Plan", "make_plan", "plain_md5", "sha256_of"]

A = TypeVar("A")
B = TypeVar("B")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
HASH_CHUNK = 8 * 2**20


def plain_md5(etag: str | None) -> str | None:
    """The MD5 an ETag is, if it is one (a single-part upload); ``None`` for multipart or other ETags."""
    if etag is None:
        return None
    etag = etag.strip('"').lower()
    return etag if _MD5.match(etag) else None


async def sha256_of(store: AsyncStore, path: str) -> str:
    """The sha256 of file ``path``, streamed with bounded memory."""
    digest = hashlib.sha256()
    reader = await store.open_read(path)
    try:
        while chunk := await reader.read(HASH_CHUNK):
            digest.update(chunk)
    finally:
        await reader.close()
    return digest.hexdigest()


async def same_content(src: AsyncStore, source: Entry, dst: AsyncStore, target: Entry) -> bool:
    """Whether two files hold the same bytes."""
    if source.size != target.size:
        return False
    left, right = plain_md5(source.etag), plain_md5(target.etag)
    if left and right:
        return left == right
    return await sha256_of(src, source.path) == await sha256_of(dst, target.path)


@dataclass(frozen=True)
class Conflict:
    """A path that exists at the destination with other content (or as a folder where the source has a file)."""

    source: Entry
    target: Entry


@dataclass
class Plan:
    copy: list[Entry] = field(default_factory=list)
    identical: list[Entry] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    #: Source folders with nothing in them, to be made at the destination.
    folders: list[str] = field(default_factory=list)
    #: The source's explicit folders (markers), for ``--delete-source``.
    source_folders: list[str] = field(default_factory=list)

    @property
    def copy_bytes(self) -> int:
        return sum(e.size for e in self.copy)

    @property
    def identical_bytes(self) -> int:
        return sum(e.size for e in self.identical)

    @property
    def conflict_bytes(self) -> int:
        return sum(c.source.size for c in self.conflicts)


async def listing(store: AsyncStore) -> list[Entry]:
    """Every file and explicit folder of the store; a root that does not exist yet is empty."""
    try:
        return await store.find("")
    except NotFound:
        return []


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Await both at once; if one fails, the other is cancelled (not left running)."""
    tasks = asyncio.ensure_future(first), asyncio.ensure_future(second)
    try:
        return await tasks[0], await tasks[1]
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def make_plan(src: AsyncStore, dst: AsyncStore, *, jobs: int, overwrite: bool = False) -> Plan:
    """Compare the two trees. With ``overwrite``, conflicting files are planned as copies.

    Both trees are listed at once; only files present on both sides are compared (``jobs`` at a time, for those
    that need their content hashed).
    """
    source, listed = await _both(listing(src), listing(dst))
    existing = {e.path: e for e in listed}
    plan = Plan()
    files = [e for e in source if not e.is_dir]
    parents = {paths.parent(e.path) for e in source}
    for entry in source:
        if entry.is_dir:
            plan.source_folders.append(entry.path)
            if entry.path not in parents and entry.path not in existing:
                plan.folders.append(entry.path)
    verdicts: dict[str, bool] = {}

    async def judge(entry: Entry) -> None:
        target = existing[entry.path]
        if not target.is_dir and target.size == 0 < entry.size:
            return  # an empty file holds nothing a copy could lose: planned as absent (see the module's notes)
        verdicts[entry.path] = not target.is_dir and await same_content(src, entry, dst, target)

    failed = await run_bounded([e for e in files if e.path in existing], judge, jobs)
    if failed:
        entry, error = next(iter(failed.items()))
        raise (
            error
            if len(failed) == 1
            else PartialFailure(
                f"could not compare {len(failed)} files with the destination, e.g. {entry.path!r}: {error}",
                failed={e.path: x for e, x in failed.items()},
                done=[],
            )
        )
    for entry in files:
        verdict = verdicts.get(entry.path)
        if verdict is None:
            plan.copy.append(entry)
        elif verdict:
            plan.identical.append(entry)
        elif overwrite and not existing[entry.path].is_dir:
            plan.copy.append(entry)
        else:
            plan.conflicts.append(Conflict(entry, existing[entry.path]))
    return plan
