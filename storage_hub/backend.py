"""The contract every backend meets.

A backend turns a :class:`~storage_hub.config.StoreConfig` into I/O on one storage target. It works on *keys*
(``bucket/prefix/a.txt``, ``/home/me/notebooks/a.txt``), never on user paths: :mod:`storage_hub.store` validates paths
and maps them onto keys before any backend method is called. Every method raises the typed errors of
:mod:`storage_hub.errors`; each backend translates its SDK's errors in one table.

Every coroutine here runs on fsspec's I/O event loop thread (the store arranges that), so a backend may keep
loop-bound clients such as aiobotocore's.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, Literal, TypeVar

from .config import StoreConfig
from .errors import ChecksumMismatch

__all__ = [
    "Backend",
    "Capabilities",
    "Check",
    "Entry",
    "EntryType",
    "ReadSession",
    "WriteSession",
    "check_md5",
    "run_bounded",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Capabilities:
    """What a backend's server can do; the store adapts to what it can't.

    Attributes
    ----------
    server_side_copy:
        Objects can be copied without passing their bytes through the client.
    multipart_copy:
        Objects larger than ``max_copy_size`` can be copied server-side in parts (S3 ``UploadPartCopy``).
    conditional_writes:
        A write can be refused if the object exists (S3 ``If-None-Match: *``), so exclusive creation is race-free.
    versioning:
        The server can keep object versions.
    bulk_delete:
        Many objects can be deleted in one request (S3 ``DeleteObjects``, 1,000 keys each).
    atomic_rename:
        Files and folders can be renamed in one atomic step (local disk); otherwise a move is copy + delete.
    checked_writes:
        A write up to ``max_single_put`` can carry the MD5 of its bytes for the server to check, and its answer
        gives the MD5 of what was stored (S3 ``Content-MD5`` and a single-part ETag).
    max_single_put:
        Largest object one plain write may send, in bytes (``None``: no limit).
    max_copy_size:
        Largest object one server-side copy request may take (``None``: no limit).
    max_key_bytes:
        Longest key the server accepts, in UTF-8 bytes (``None``: no limit known).
    """

    server_side_copy: bool = True
    multipart_copy: bool = False
    conditional_writes: bool = False
    versioning: bool = False
    bulk_delete: bool = False
    atomic_rename: bool = False
    checked_writes: bool = False
    max_single_put: int | None = None
    max_copy_size: int | None = None
    max_key_bytes: int | None = None


EntryType = Literal["file", "directory"]


@dataclass(frozen=True)
class Entry:
    """One file or folder.

    ``path`` is a backend key when a backend returns it and a store-relative path when a store does.
    ``size`` is 0 for folders; ``etag`` is the server's entity tag without quotes (``None`` where there is none);
    times are timezone-aware UTC (``None`` where the backend cannot tell, as for prefix-only folders).
    """

    path: str
    type: EntryType
    size: int = 0
    last_modified: datetime | None = None
    created: datetime | None = None
    etag: str | None = None

    @property
    def name(self) -> str:
        """The last component of the path."""
        return self.path.rstrip("/").rpartition("/")[2]

    @property
    def is_dir(self) -> bool:
        return self.type == "directory"

    def moved(self, path: str) -> Entry:
        """The same entry under another path."""
        return replace(self, path=path)


@dataclass(frozen=True)
class Check:
    """One line of ``storage-hub doctor``: what was checked, whether it passed, and what to fix if not."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None


class ReadSession(abc.ABC):
    """A streamed read of one object. ``size`` is known when the session opens."""

    size: int

    @abc.abstractmethod
    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left when ``n < 0``); ``b""`` at the end."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the connection or file handle."""


class WriteSession(abc.ABC):
    """A streamed, atomic write of one object: nothing is visible at the key until :meth:`commit`."""

    @abc.abstractmethod
    async def write(self, data: bytes) -> None:
        """Append ``data``; memory held stays bounded whatever the total size."""

    @abc.abstractmethod
    async def commit(self) -> None:
        """Make the object visible at its key, replacing any previous one in one step."""

    @abc.abstractmethod
    async def abort(self) -> None:
        """Drop everything written; the previous object, if any, stays as it was. Safe to call twice."""


class Backend(abc.ABC):
    """Base class of all backends.

    Subclasses set ``protocols`` and ``capabilities`` and implement the abstract methods. Keys have no trailing
    slash; ``self.root`` is the key of the store root.
    """

    protocols: ClassVar[tuple[str, ...]] = ()
    capabilities: Capabilities = Capabilities()
    #: Requests a bulk operation keeps in flight.
    max_concurrency: int = 16

    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        #: The key of the store root; a subclass sets it where keys are not ``config.location``.
        self.root = config.location

    # -- identity for other tools ------------------------------------------------------------------------------
    def url(self, key: str) -> str:
        """An fsspec URL of ``key`` that pandas, pyarrow and Dask open with :attr:`storage_options`."""
        return f"{self.config.protocol}://{key}"

    @property
    def storage_options(self) -> dict[str, Any]:
        """The fsspec filesystem keyword arguments that reach this store (credentials included if configured)."""
        return dict(self.config.options)

    def same_server(self, other: Backend) -> bool:
        """Whether :meth:`copy_file` of this backend can copy keys of ``other`` server-side: the same kind of
        backend, on the same server, with the same options (hence the same credentials)."""
        return (
            type(self) is type(other)
            and self.config.protocol == other.config.protocol
            and dict(self.config.options) == dict(other.config.options)
        )

    # -- metadata ---------------------------------------------------------------------------------------------
    @abc.abstractmethod
    async def info(self, key: str) -> Entry:
        """The entry at ``key``, file or folder. Raises ``NotFound``."""

    async def is_file(self, key: str) -> bool:
        """Whether a file exists at ``key``; backends answer it more cheaply than :meth:`info` where they can."""
        from .errors import NotFound

        try:
            return not (await self.info(key)).is_dir
        except NotFound:
            return False

    @abc.abstractmethod
    async def list_folder(self, key: str) -> tuple[Entry, list[Entry]]:
        """Folder ``key`` itself and its immediate children, in any order. Raises ``NotFound`` or ``NotAFolder``.

        Object stores answer with one delimiter listing per 1,000 entries and never a request per entry; the
        folder's own entry has a time only where the backend knows one without another request.
        """

    async def list_dir(self, key: str) -> list[Entry]:
        """The immediate children of folder ``key`` (see :meth:`list_folder`)."""
        return (await self.list_folder(key))[1]

    @abc.abstractmethod
    async def find(self, key: str) -> list[Entry]:
        """Everything below folder ``key`` at any depth: every file, and every folder the backend knows
        explicitly (all folders on disk; ``dir/`` markers on object stores). Unordered; ``[]`` if nothing."""

    # -- bytes ------------------------------------------------------------------------------------------------
    @abc.abstractmethod
    async def read(self, key: str, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of file ``key`` in ``[start, end)``. Raises ``NotFound``."""

    async def read_entry(self, key: str) -> tuple[Entry, bytes]:
        """The entry and the whole content of file ``key``; backends that can do it in one request override this.

        Raises ``NotFound`` or ``IsAFolder``.
        """
        from .errors import IsAFolder

        entry = await self.info(key)
        if entry.is_dir:
            raise IsAFolder(f"{key}: is a folder, not a file", key)
        data = await self.read(key)
        return replace(entry, size=len(data)), data

    @abc.abstractmethod
    async def open_read(self, key: str) -> ReadSession:
        """A streamed read of file ``key``. Raises ``NotFound``."""

    @abc.abstractmethod
    async def write(self, key: str, data: bytes, *, exclusive: bool = False, md5: str | None = None) -> Entry:
        """Replace file ``key`` with ``data`` atomically, creating parent folders as needed; returns its entry.

        With ``exclusive`` the write fails with ``AlreadyExists`` if the key exists; backends whose
        capabilities say ``conditional_writes`` do that race-free on the server. With ``md5`` (hex) it fails
        with ``ChecksumMismatch``, writing nothing, unless that is the MD5 of the bytes written (on S3 the server
        checks the bytes it received).
        """

    @abc.abstractmethod
    async def open_write(self, key: str) -> WriteSession:
        """Start a streamed, atomic write of file ``key``."""

    async def write_stream(self, key: str, chunks: AsyncIterable[bytes], *, size: int, md5: str) -> Entry:
        """Replace file ``key`` with the bytes of ``chunks``, holding one chunk at a time; fails with
        ``ChecksumMismatch``, writing nothing, unless they are ``size`` bytes with the MD5 ``md5`` (hex).

        This default goes through :meth:`open_write` and hashes the bytes here; S3 sends them in one PUT that
        the server checks.
        """
        digest, count = hashlib.md5(), 0
        session = await self.open_write(key)
        try:
            async for chunk in chunks:
                await asyncio.to_thread(digest.update, chunk)
                count += len(chunk)
                await session.write(chunk)
            if count != size or digest.hexdigest() != md5:
                raise ChecksumMismatch(f"{key}: the bytes to write are not the {size} bytes of MD5 {md5}", key)
            await session.commit()
        except BaseException:
            await session.abort()
            raise
        return await self.info(key)

    # -- tree operations --------------------------------------------------------------------------------------
    @abc.abstractmethod
    async def copy_file(self, src: str, dst: str, size: int | None = None) -> None:
        """Copy one file, server-side where the server can. ``size`` saves a request when the caller knows it."""

    @abc.abstractmethod
    async def delete_files(self, keys: Sequence[str]) -> dict[str, BaseException]:
        """Delete files in bulk; a missing key is not an error. Returns the keys that failed, with why."""

    @abc.abstractmethod
    async def delete_folder(self, key: str) -> None:
        """Delete folder ``key`` and everything below it, including its marker where there is one."""

    @abc.abstractmethod
    async def make_dir(self, key: str) -> None:
        """Create folder ``key`` (and parents where the backend has real folders); existing is fine."""

    async def rename(self, src: str, dst: str) -> None:
        """Rename a file or folder in one atomic step. Only backends with ``atomic_rename`` implement it."""
        raise NotImplementedError(f"{type(self).__name__} has no atomic rename")

    # -- lifecycle --------------------------------------------------------------------------------------------
    async def diagnose(self) -> list[Check]:
        """Checks for ``storage-hub doctor``: by default, that the root can be listed."""
        from .errors import StorageError

        try:
            entries = await self.list_dir(self.root)
        except StorageError as e:
            return [Check("root", False, str(e), "check the store URL and options")]
        return [Check("root", True, f"{self.config.url} lists {len(entries)} entries")]

    async def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release clients and connections. The default has nothing to release."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"


async def check_md5(key: str, data: bytes, md5: str) -> None:
    """Raise ``ChecksumMismatch`` unless ``data`` has the MD5 ``md5`` (hex); hashed in a worker thread."""
    if await asyncio.to_thread(lambda: hashlib.md5(data).hexdigest()) != md5:
        raise ChecksumMismatch(f"{key}: the bytes to write do not have the MD5 they were given with", key)


async def run_bounded(
    items: Iterable[T],
    func: Callable[[T], Awaitable[object]],
    limit: int,
    progress: Callable[[int], None] | None = None,
) -> dict[T, BaseException]:
    """Run ``func`` on every item with at most ``limit`` running at once.

    Every item is tried; returns the items that failed with their exception. ``progress`` is called with the
    number of items finished so far. Cancellation propagates.
    """
    iterator = iter(items)
    failed: dict[T, BaseException] = {}
    finished = 0

    async def worker() -> None:
        nonlocal finished
        for item in iterator:
            try:
                await func(item)
            except Exception as e:  # noqa: BLE001 - collected and reported by the caller
                failed[item] = e
            finished += 1
            if progress is not None:
                progress(finished)

    await asyncio.gather(*(worker() for _ in range(max(1, limit))))
    return failed
