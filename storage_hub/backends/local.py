"""Local disk: atomic writes by write-then-rename in the same folder, native atomic renames."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from typing import IO

from fsspec.implementations.local import LocalFileSystem

from ..backend import Capabilities, Entry, WriteSession, check_md5
from ..config import StoreConfig
from ..errors import AlreadyExists
from .fsspec_url import FsspecBackend, translate_os_errors

__all__ = ["LocalBackend"]

# Temporary files of unfinished writes: hidden, and never listed.
TEMP_PREFIX = ".~storage-hub-"


def _open_temp(key: str) -> IO[bytes]:
    folder = os.path.dirname(key)
    os.makedirs(folder, exist_ok=True)
    return tempfile.NamedTemporaryFile(prefix=TEMP_PREFIX, suffix=".tmp", dir=folder, delete=False)


def _publish(file: IO[bytes], key: str, exclusive: bool) -> None:
    """Flush, fsync and move the temporary file over ``key`` in one step."""
    file.flush()
    os.fsync(file.fileno())
    file.close()
    try:
        if exclusive:
            os.link(file.name, key)  # fails if key exists, atomically
            os.unlink(file.name)
        else:
            os.replace(file.name, key)
    except BaseException:
        _discard(file)
        raise


def _discard(file: IO[bytes]) -> None:
    file.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(file.name)


def _write(key: str, data: bytes, exclusive: bool) -> None:
    file = _open_temp(key)
    try:
        file.write(data)
    except BaseException:
        _discard(file)
        raise
    _publish(file, key, exclusive)


class _TempWriteSession(WriteSession):
    def __init__(self, key: str, file: IO[bytes]) -> None:
        self._key = key
        self._file = file

    async def write(self, data: bytes) -> None:
        with translate_os_errors(self._key):
            await asyncio.to_thread(self._file.write, data)

    async def commit(self) -> None:
        with translate_os_errors(self._key):
            await asyncio.to_thread(_publish, self._file, self._key, False)

    async def abort(self) -> None:
        await asyncio.to_thread(_discard, self._file)


class LocalBackend(FsspecBackend):
    """The local filesystem, rooted at an absolute folder."""

    protocols = ("file", "local")
    capabilities = Capabilities(server_side_copy=True, atomic_rename=True, conditional_writes=True)

    def __init__(self, config: StoreConfig) -> None:
        if config.options:
            from ..errors import ConfigurationError

            raise ConfigurationError(f"the local backend takes no options, got {sorted(config.options)}")
        super().__init__(config, LocalFileSystem())
        self.root = config.location

    def url(self, key: str) -> str:
        return key  # a plain absolute path: open(), pandas, pyarrow and Dask all take it, with no options

    async def list_folder(self, key: str) -> tuple[Entry, list[Entry]]:
        folder, children = await super().list_folder(key)
        if key == self.root:
            folder = await self.info(key)  # the root is a real folder here, with real times
        return folder, [e for e in children if not e.name.startswith(TEMP_PREFIX)]

    async def find(self, key: str) -> list[Entry]:
        return [e for e in await super().find(key) if not e.name.startswith(TEMP_PREFIX)]

    async def write(self, key: str, data: bytes, *, exclusive: bool = False, md5: str | None = None) -> Entry:
        if md5 is not None:
            await check_md5(key, data, md5)
        with translate_os_errors(key):
            try:
                await asyncio.to_thread(_write, key, data, exclusive)
            except FileExistsError as e:
                raise AlreadyExists(f"{key}: already exists", key) from e
        return await self.info(key)

    async def open_write(self, key: str) -> WriteSession:
        with translate_os_errors(key):
            return _TempWriteSession(key, await asyncio.to_thread(_open_temp, key))

    async def rename(self, src: str, dst: str) -> None:
        with translate_os_errors(src):
            await asyncio.to_thread(os.makedirs, os.path.dirname(dst), exist_ok=True)
            await asyncio.to_thread(os.replace, src, dst)

    async def delete_folder(self, key: str) -> None:
        with translate_os_errors(key):
            await asyncio.to_thread(shutil.rmtree, key)
