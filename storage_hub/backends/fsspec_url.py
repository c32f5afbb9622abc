"""Any fsspec filesystem as a backend: memory, gcs, az, sftp... (and the base of the local backend).

Synchronous filesystems are wrapped so that their calls run in worker threads and never block the event loop.
"""

from __future__ import annotations

import asyncio
import errno
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import fsspec
from fsspec.asyn import AsyncFileSystem
from fsspec.implementations.asyn_wrapper import AsyncFileSystemWrapper

from ..backend import Backend, Capabilities, Entry, EntryType, ReadSession, WriteSession, check_md5
from ..config import StoreConfig
from ..errors import (
    AlreadyExists,
    BackendUnavailable,
    FolderNotEmpty,
    IsAFolder,
    NotAFolder,
    NotFound,
    PermissionDenied,
    StorageError,
)

__all__ = ["FsspecBackend", "translate_os_errors"]

_OS_ERRORS: list[tuple[type[BaseException], type[StorageError], str]] = [
    (FileNotFoundError, NotFound, "no such file or folder"),
    (FileExistsError, AlreadyExists, "already exists"),
    (NotADirectoryError, NotAFolder, "is a file, not a folder"),
    (IsADirectoryError, IsAFolder, "is a folder, not a file"),
    (PermissionError, PermissionDenied, "permission denied"),
    (ConnectionError, BackendUnavailable, "storage unreachable"),
    (TimeoutError, BackendUnavailable, "storage timed out"),
]


@contextmanager
def translate_os_errors(key: str) -> Iterator[None]:
    """Turn builtin I/O errors raised by an fsspec filesystem into storage-hub's typed errors."""
    try:
        yield
    except StorageError:
        raise
    except OSError as e:
        if e.errno == errno.ENOTEMPTY:
            raise FolderNotEmpty(f"{key}: folder is not empty", key) from e
        for builtin, ours, what in _OS_ERRORS:
            if isinstance(e, builtin):
                raise ours(f"{key}: {what}", key) from e
        raise StorageError(f"{key}: {e.strerror or e}", key) from e


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return None


def entry_from_info(info: Mapping[str, Any]) -> Entry:
    """An :class:`Entry` from an fsspec ``info()`` / ``ls(detail=True)`` dict."""
    kind: EntryType = "directory" if info.get("type") == "directory" else "file"
    modified = _time(info.get("mtime") or info.get("LastModified") or info.get("updated"))
    created = _time(info.get("created") or info.get("timeCreated"))
    etag = info.get("ETag") or info.get("etag")
    return Entry(
        path=str(info["name"]).rstrip("/") or "/",
        type=kind,
        size=int(info.get("size") or 0) if kind == "file" else 0,
        last_modified=modified or created,
        created=created,
        etag=str(etag).strip('"') if etag else None,
    )


class _RangedReadSession(ReadSession):
    """Streams an object by ranged reads of the underlying filesystem."""

    def __init__(self, backend: FsspecBackend, key: str, size: int) -> None:
        self._backend = backend
        self._key = key
        self.size = size
        self._pos = 0

    async def read(self, n: int = -1) -> bytes:
        end = self.size if n < 0 else min(self.size, self._pos + n)
        if end <= self._pos:
            return b""
        data = await self._backend.read(self._key, self._pos, end)
        self._pos += len(data)
        return data

    async def close(self) -> None:
        self._pos = self.size


class _SpooledWriteSession(WriteSession):
    """Spools to a local temporary file, then uploads in one step on commit."""

    def __init__(self, backend: FsspecBackend, key: str) -> None:
        self._backend = backend
        self._key = key
        self._file = tempfile.NamedTemporaryFile(prefix="storage-hub-", delete=False)  # noqa: SIM115

    async def write(self, data: bytes) -> None:
        await asyncio.to_thread(self._file.write, data)

    async def commit(self) -> None:
        await asyncio.to_thread(self._file.close)
        try:
            await self._backend.put_local_file(self._file.name, self._key)
        finally:
            await self.abort()

    async def abort(self) -> None:
        self._file.close()
        if os.path.exists(self._file.name):
            os.unlink(self._file.name)


class FsspecBackend(Backend):
    """A backend over any fsspec filesystem.

    Parameters
    ----------
    config:
        The store configuration; ``config.options`` are passed to the fsspec filesystem constructor.
    fs:
        An already-built filesystem (used by subclasses); by default one is made from the config.
    """

    capabilities = Capabilities(server_side_copy=True)

    def __init__(self, config: StoreConfig, fs: fsspec.AbstractFileSystem | None = None) -> None:
        if fs is None:
            try:
                fs = fsspec.filesystem(config.protocol, **config.options)
            except (ImportError, ValueError, TypeError) as e:
                from ..errors import ConfigurationError

                raise ConfigurationError(f"cannot open {config.url}: {e}") from e
        self.sync_fs = fs
        self.fs: AsyncFileSystem = fs if fs.async_impl else AsyncFileSystemWrapper(fs, asynchronous=True)
        super().__init__(config)
        root = fs._strip_protocol(f"{config.protocol}://{config.location}") if config.location else ""
        self.root = str(root).rstrip("/") or fs.root_marker

    def url(self, key: str) -> str:
        return str(self.sync_fs.unstrip_protocol(key))

    async def info(self, key: str) -> Entry:
        with translate_os_errors(key):
            return entry_from_info(await self.fs._info(key))

    async def list_folder(self, key: str) -> tuple[Entry, list[Entry]]:
        with translate_os_errors(key):
            folder = await self.info(key) if key != self.root else Entry(key, "directory")
            if not folder.is_dir:
                raise NotAFolder(f"{key}: is a file, not a folder", key)
            listing = await self.fs._ls(key, detail=True)
        return folder, [e for e in map(entry_from_info, listing) if e.path.rstrip("/") != key.rstrip("/")]

    async def find(self, key: str) -> list[Entry]:
        with translate_os_errors(key):
            found = await self.fs._find(key, withdirs=True, detail=True)
        return [e for e in map(entry_from_info, found.values()) if e.path.rstrip("/") != key.rstrip("/")]

    async def read(self, key: str, start: int | None = None, end: int | None = None) -> bytes:
        with translate_os_errors(key):
            data: bytes = await self.fs._cat_file(key, start=start, end=end)
        return data

    async def open_read(self, key: str) -> ReadSession:
        entry = await self.info(key)
        if entry.is_dir:
            raise IsAFolder(f"{key}: is a folder, not a file", key)
        return _RangedReadSession(self, key, entry.size)

    async def write(self, key: str, data: bytes, *, exclusive: bool = False, md5: str | None = None) -> Entry:
        if md5 is not None:
            await check_md5(key, data, md5)
        with translate_os_errors(key):
            if exclusive and await self.fs._exists(key):
                raise AlreadyExists(f"{key}: already exists", key)
            await self._make_parent(key)
            await self.fs._pipe_file(key, data)
        return await self.info(key)

    async def open_write(self, key: str) -> WriteSession:
        return _SpooledWriteSession(self, key)

    async def put_local_file(self, local_path: str, key: str) -> None:
        """Upload a finished local file to ``key`` in one step (used by spooled writes)."""
        with translate_os_errors(key):
            await self._make_parent(key)
            await self.fs._put_file(local_path, key)

    async def _make_parent(self, key: str) -> None:
        parent = self.fs._parent(key)
        if parent and parent != key:
            await self.fs._makedirs(parent, exist_ok=True)

    async def copy_file(self, src: str, dst: str, size: int | None = None) -> None:
        with translate_os_errors(src):
            await self._make_parent(dst)
            await self.fs._cp_file(src, dst)

    async def delete_files(self, keys: Sequence[str]) -> dict[str, BaseException]:
        failed: dict[str, BaseException] = {}
        for key in keys:
            try:
                with translate_os_errors(key):
                    await self.fs._rm_file(key)
            except NotFound:
                continue
            except StorageError as e:
                failed[key] = e
        return failed

    async def delete_folder(self, key: str) -> None:
        with translate_os_errors(key):
            await self.fs._rm(key, recursive=True)

    async def make_dir(self, key: str) -> None:
        with translate_os_errors(key):
            await self.fs._makedirs(key, exist_ok=True)
