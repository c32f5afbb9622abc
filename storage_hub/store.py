"""The Store: a rooted, async view of one storage target, with a sync facade.

:class:`AsyncStore` is the core. Its coroutines may be awaited from any event loop (a Jupyter server's, a
kernel's, ``asyncio.run``): the I/O itself always runs on fsspec's I/O loop thread, so the caller's loop is never
blocked and loop-bound clients stay on one loop. :class:`Store` is the same API, blocking, for scripts and
notebook cells; it works inside a running event loop too (a Jupyter kernel).

Paths are relative to the store root (``"data/a b.csv"``; ``""`` is the root). ``..``, absolute paths, NUL and
other escapes raise :class:`~storage_hub.errors.InvalidPath` before any request is sent.
"""

from __future__ import annotations

import asyncio
import functools
import io
from collections import defaultdict
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine
from typing import Any, Literal, ParamSpec, TypeVar, overload

from fsspec.asyn import get_loop, sync

from . import paths
from .backend import Backend, Capabilities, Entry, ReadSession, WriteSession, run_bounded
from .config import StoreConfig
from .errors import (
    AlreadyExists,
    FolderNotEmpty,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
    PartialFailure,
    StorageError,
)
from .streams import ReadFile, WriteFile

__all__ = ["AsyncStore", "Store", "WalkStep"]

P = ParamSpec("P")
R = TypeVar("R")

WalkStep = tuple[str, list[str], list[Entry]]
Progress = Callable[[int, int], None]

DEFAULT_CHUNK = 8 * 2**20


def _on_io_loop(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run the coroutine on fsspec's I/O loop, awaiting it from whatever loop the caller is on."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        loop = get_loop()
        coro = method(*args, **kwargs)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - a coroutine always runs in a loop
            running = None
        if running is loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    return wrapper


class AsyncStore:
    """The async core of a store. Obtain one with ``open_store(...).aio``.

    Parameters
    ----------
    backend:
        The backend that does the I/O. Bulk operations (folder copy, move) keep ``backend.max_concurrency``
        requests in flight.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    # -- identity ---------------------------------------------------------------------------------------------
    @property
    def config(self) -> StoreConfig:
        return self.backend.config

    @property
    def capabilities(self) -> Capabilities:
        return self.backend.capabilities

    def url(self, path: str = "") -> str:
        """A URL of ``path`` (default: the root) for pandas, pyarrow, Dask, with :attr:`storage_options`; a plain
        absolute path on local disk.

        ``pd.read_parquet(store.url("t.parquet"), storage_options=store.storage_options)``. It never contains a
        secret; for CORTX it is an ``s3://`` URL, the endpoint being in the options.
        """
        return self.backend.url(self.key(path))

    @property
    def storage_options(self) -> dict[str, Any]:
        """The fsspec keyword arguments that open :meth:`url` (they hold the credentials if the store was given
        them: don't print them)."""
        return self.backend.storage_options

    def __repr__(self) -> str:
        return f"<AsyncStore {self.config.describe()}>"

    # -- paths ------------------------------------------------------------------------------------------------
    def key(self, path: str) -> str:
        """The backend key of a store-relative path. Raises ``InvalidPath``."""
        path = paths.normalize(path)
        key = paths.to_key(self.backend.root, path)
        limit = self.capabilities.max_key_bytes
        if limit is not None and len(key.encode("utf-8")) > limit:
            raise InvalidPath(f"path {path!r} is longer than this server's {limit}-byte key limit", path)
        return key

    def _rel(self, entry: Entry) -> Entry:
        return entry.moved(paths.relative(self.backend.root, entry.path))

    # -- metadata ---------------------------------------------------------------------------------------------
    @_on_io_loop
    async def info(self, path: str) -> Entry:
        """The entry at ``path``. Raises ``NotFound``."""
        return self._rel(await self.backend.info(self.key(path)))

    @_on_io_loop
    async def exists(self, path: str) -> bool:
        """Whether a file or folder exists at ``path``."""
        try:
            await self.backend.info(self.key(path))
        except NotFound:
            return False
        return True

    @_on_io_loop
    async def is_file(self, path: str) -> bool:
        """Whether a file exists at ``path`` (one HEAD on S3, where :meth:`exists` may also list)."""
        return await self.backend.is_file(self.key(path))

    @_on_io_loop
    async def ls(self, path: str = "") -> list[Entry]:
        """The entries of folder ``path``, sorted by name. Raises ``NotFound`` or ``NotAFolder``."""
        entries = await self.backend.list_dir(self.key(path))
        return sorted((self._rel(e) for e in entries), key=lambda e: e.path)

    @_on_io_loop
    async def ls_folder(self, path: str = "") -> tuple[Entry, list[Entry]]:
        """Folder ``path`` itself and its entries sorted by name, in one listing (see :meth:`ls`)."""
        folder, entries = await self.backend.list_folder(self.key(path))
        return self._rel(folder), sorted((self._rel(e) for e in entries), key=lambda e: e.path)

    @_on_io_loop
    async def find(self, path: str = "") -> list[Entry]:
        """Every file and explicit folder below folder ``path``, at any depth, sorted by path."""
        entries = await self.backend.find(self.key(path))
        return sorted((self._rel(e) for e in entries), key=lambda e: e.path)

    @_on_io_loop
    async def walk(self, path: str = "") -> list[WalkStep]:
        """Like :func:`os.walk`, top-down: ``(folder, subfolder names, file entries)`` for every folder.

        Built from one recursive listing, so folders that exist only as key prefixes are included.
        """
        top = paths.normalize(path)
        if not (await self.info(top)).is_dir:
            raise NotAFolder(f"{top!r} is a file, not a folder", top)
        folders = {top}
        files: dict[str, list[Entry]] = defaultdict(list)
        for entry in await self.find(top):
            folder = entry.path if entry.is_dir else paths.parent(entry.path)
            if not entry.is_dir:
                files[folder].append(entry)
            while folder != top and folder not in folders:
                folders.add(folder)
                folder = paths.parent(folder)
        subfolders: dict[str, list[str]] = defaultdict(list)
        for folder in folders - {top}:
            subfolders[paths.parent(folder)].append(paths.basename(folder))
        order = sorted(folders, key=lambda f: (f.count("/") if f else -1, f))
        return [(f, sorted(subfolders[f]), files[f]) for f in order]

    # -- bytes ------------------------------------------------------------------------------------------------
    @_on_io_loop
    async def read_bytes(self, path: str, start: int | None = None, end: int | None = None) -> bytes:
        """The content of file ``path`` (or bytes ``[start, end)``). Raises ``NotFound`` or ``IsAFolder``."""
        key = self.key(path)
        try:
            return await self.backend.read(key, start, end)
        except NotFound:
            await self._refuse_folder(path, key)
            raise

    @_on_io_loop
    async def read_entry(self, path: str) -> tuple[Entry, bytes]:
        """The entry and content of file ``path``, in one request where the backend can (S3: one GET)."""
        key = self.key(path)
        try:
            entry, data = await self.backend.read_entry(key)
        except NotFound:
            await self._refuse_folder(path, key)
            raise
        return self._rel(entry), data

    @_on_io_loop
    async def write_bytes(self, path: str, data: bytes, *, overwrite: bool = True, md5: str | None = None) -> Entry:
        """Replace file ``path`` with ``data`` atomically, parent folders created as needed; returns its entry.

        With ``overwrite=False`` an existing file raises ``AlreadyExists`` (race-free where the server
        supports conditional writes). With ``md5`` (hex), bytes whose MD5 differs raise ``ChecksumMismatch`` and
        nothing is written (on S3 the server checks what it received: ``Content-MD5``). On local disk, writing
        over a folder raises ``IsAFolder``; object stores allow a file and a folder of the same name side by
        side, and this costs no request to check.
        """
        path = paths.normalize(path)
        if not path:
            raise IsAFolder("cannot write a file at the store root", path)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        return self._rel(await self.backend.write(self.key(path), bytes(data), exclusive=not overwrite, md5=md5))

    async def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """The content of file ``path`` decoded as text."""
        return (await self.read_bytes(path)).decode(encoding)

    async def write_text(self, path: str, text: str, encoding: str = "utf-8", *, overwrite: bool = True) -> Entry:
        """Write ``text`` encoded as ``encoding`` to file ``path`` (see :meth:`write_bytes`)."""
        return await self.write_bytes(path, text.encode(encoding), overwrite=overwrite)

    @_on_io_loop
    async def open_read(self, path: str) -> AsyncReader:
        """A streamed read of file ``path``: ``await reader.read(n)`` until ``b""``, then ``await reader.close()``."""
        key = self.key(path)
        try:
            session = await self.backend.open_read(key)
        except NotFound:
            await self._refuse_folder(path, key)
            raise
        return AsyncReader(session)

    async def iter_bytes(self, path: str, chunk_size: int = DEFAULT_CHUNK) -> AsyncIterator[bytes]:
        """Yield the content of file ``path`` in chunks of at most ``chunk_size`` bytes."""
        reader = await self.open_read(path)
        try:
            while chunk := await reader.read(chunk_size):
                yield chunk
        finally:
            await reader.close()

    @_on_io_loop
    async def open_write(self, path: str) -> AsyncWriter:
        """Start a streamed atomic write of file ``path``: ``await w.write(b)``..., then ``commit()`` or ``abort()``.

        Nothing appears at ``path`` until ``commit``; memory stays bounded whatever the size.
        """
        path = paths.normalize(path)
        if not path:
            raise IsAFolder("cannot write a file at the store root", path)
        return AsyncWriter(await self.backend.open_write(self.key(path)))

    @_on_io_loop
    async def write_stream(self, path: str, chunks: AsyncIterable[bytes], *, size: int, md5: str) -> Entry:
        """Replace file ``path`` with the bytes of ``chunks`` (memory: one chunk), atomically; raises
        ``ChecksumMismatch``, writing nothing, unless they are ``size`` bytes with the MD5 ``md5`` (hex): on S3 one
        PUT whose bytes the server checks (up to 5 GiB), elsewhere hashed as they are written.
        """
        path = paths.normalize(path)
        if not path:
            raise IsAFolder("cannot write a file at the store root", path)
        return self._rel(await self.backend.write_stream(self.key(path), chunks, size=size, md5=md5))

    async def _refuse_folder(self, path: str, key: str) -> None:
        try:
            info = await self.backend.info(key)
        except NotFound:
            return
        if info.is_dir:
            raise IsAFolder(f"{path!r} is a folder, not a file", path)

    # -- tree operations --------------------------------------------------------------------------------------
    @_on_io_loop
    async def mkdir(self, path: str, *, exist_ok: bool = False) -> None:
        """Create folder ``path`` (parents as needed). Raises ``AlreadyExists`` unless ``exist_ok``."""
        path = paths.normalize(path)
        key = self.key(path)
        try:
            info = await self.backend.info(key)
        except NotFound:
            await self.backend.make_dir(key)
            return
        if not info.is_dir:
            raise AlreadyExists(f"{path!r} exists and is a file", path)
        if not exist_ok:
            raise AlreadyExists(f"folder {path!r} already exists", path)

    @_on_io_loop
    async def delete(self, path: str, *, recursive: bool = False, missing_ok: bool = False) -> None:
        """Delete file or folder ``path``.

        A folder with content needs ``recursive=True`` (else ``FolderNotEmpty``); its whole tree goes, in bulk.
        Raises ``NotFound`` unless ``missing_ok``. The root itself cannot be deleted.
        """
        path = paths.normalize(path)
        if not path:
            raise InvalidPath("refusing to delete the store root", path)
        key = self.key(path)
        try:
            info = await self.backend.info(key)
        except NotFound:
            if missing_ok:
                return
            raise
        if not info.is_dir:
            failed = await self.backend.delete_files([key])
            if failed:
                raise next(iter(failed.values()))
            return
        if not recursive and await self.backend.list_dir(key):
            raise FolderNotEmpty(f"folder {path!r} is not empty", path)
        await self.backend.delete_folder(key)

    @_on_io_loop
    async def copy(self, src: str, dst: str, *, overwrite: bool = False, progress: Progress | None = None) -> None:
        """Copy file or folder ``src`` to ``dst``, server-side where the server can.

        Folders are copied whole, with at most ``max_concurrency`` requests in flight; ``progress(done, total)``
        is called as files finish. ``dst`` must not exist unless ``overwrite`` (then files are replaced, folders
        merged). Raises ``PartialFailure`` naming what did not copy.
        """
        src, dst = paths.normalize(src), paths.normalize(dst)
        info, _ = await self._check_transfer(src, dst, overwrite)
        if not info.is_dir:
            await self.backend.copy_file(self.key(src), self.key(dst), info.size)
            if progress:
                progress(1, 1)
            return
        await self._copy_tree(src, dst, progress)

    @_on_io_loop
    async def copy_file(self, src: str, dst: str) -> None:
        """Copy file ``src`` over ``dst`` server-side with no checks first: one request on S3.

        For callers that know what they copy (checkpoints); raises ``NotFound`` if ``src`` does not exist.
        """
        src, dst = paths.normalize(src), paths.normalize(dst)
        if not src or not dst:
            raise InvalidPath("copy_file copies files, not the store root", src or dst)
        await self.backend.copy_file(self.key(src), self.key(dst))

    @_on_io_loop
    async def copy_from(self, source: AsyncStore, src: str, dst: str, size: int | None = None) -> bool:
        """Copy file ``src`` of store ``source`` over ``dst`` of this store server-side, if both stores are on one
        server with the same credentials (one request on S3); ``False`` (nothing done) if they are not."""
        if not self.backend.same_server(source.backend):
            return False
        src, dst = paths.normalize(src), paths.normalize(dst)
        if not src or not dst:
            raise InvalidPath("copy_from copies files, not the store root", src or dst)
        await self.backend.copy_file(source.key(src), self.key(dst), size)
        return True

    @_on_io_loop
    async def move(self, src: str, dst: str, *, overwrite: bool = False, progress: Progress | None = None) -> None:
        """Move (rename) file or folder ``src`` to ``dst``.

        Atomic where the backend renames natively (local disk). Elsewhere a folder is copied whole first and its
        sources are deleted only once every copy succeeded. If a copy fails, every source is kept, the partial
        copy is removed (unless ``dst`` existed and was being merged into), and ``PartialFailure`` names the
        files that failed: a folder is never left half-moved.
        """
        src, dst = paths.normalize(src), paths.normalize(dst)
        info, merging = await self._check_transfer(src, dst, overwrite)
        src_key, dst_key = self.key(src), self.key(dst)
        if self.capabilities.atomic_rename and not (merging and info.is_dir):
            await self.backend.rename(src_key, dst_key)
            return
        if not info.is_dir:
            await self.backend.copy_file(src_key, dst_key, info.size)
            failed = await self.backend.delete_files([src_key])
            if failed:
                raise next(iter(failed.values()))
            return
        try:
            await self._copy_tree(src, dst, progress)
        except PartialFailure as e:
            if merging:
                state = f"{len(e.done)} files were copied into the existing {dst!r}"
            else:
                try:
                    await self.backend.delete_folder(dst_key)
                    state = "the partial copy was removed"
                except StorageError:
                    state = f"the partial copy at {dst!r} could not be removed"
            raise PartialFailure(
                f"moving {src!r} to {dst!r} failed for {len(e.failed)} files; every source was kept and {state}",
                src,
                failed=e.failed,
                done=[],
            ) from e
        await self.backend.delete_folder(src_key)

    async def _check_transfer(self, src: str, dst: str, overwrite: bool) -> tuple[Entry, bool]:
        """The source's entry, and whether ``dst`` exists (allowed only with ``overwrite``, and of the same kind)."""
        if not src:
            raise InvalidPath("cannot copy or move the store root itself", src)
        if not dst:
            raise InvalidPath("the destination cannot be the store root itself", dst)
        info = await self.info(src)
        try:
            existing = await self.backend.info(self.key(dst))
        except NotFound:
            existing = None
        if existing is not None and not overwrite:
            raise AlreadyExists(f"{dst!r} already exists", dst)
        if paths.is_within(dst, src):
            raise InvalidPath(f"cannot copy or move {src!r} into itself ({dst!r})", dst)
        if existing is None:
            return info, False
        if existing.is_dir != info.is_dir:
            kind = "folder" if existing.is_dir else "file"
            raise AlreadyExists(f"{dst!r} exists and is a {kind}", dst)
        return info, True

    async def _copy_tree(self, src: str, dst: str, progress: Progress | None) -> None:
        entries = await self.find(src)
        folders = [src] + [e.path for e in entries if e.is_dir]
        files = [e for e in entries if not e.is_dir]
        total = len(files)

        def target(path: str) -> str:
            return paths.join(dst, path[len(src) + 1 :]) if path != src else dst

        for folder in folders:
            await self.backend.make_dir(self.key(target(folder)))

        async def copy_one(entry: Entry) -> None:
            await self.backend.copy_file(self.key(entry.path), self.key(target(entry.path)), entry.size)

        report = (lambda n: progress(n, total)) if progress else None
        failed = await run_bounded(files, copy_one, self.backend.max_concurrency, report)
        if failed:
            by_path = {e.path: err for e, err in failed.items()}
            done = [target(e.path) for e in files if e not in failed]
            first = next(iter(by_path.values()))
            raise PartialFailure(
                f"copying {src!r} to {dst!r}: {len(failed)} of {total} files failed (first: {first})",
                src,
                failed=by_path,
                done=done,
            )

    # -- lifecycle --------------------------------------------------------------------------------------------
    @_on_io_loop
    async def diagnose(self) -> list[Any]:
        """The checks of ``storage-hub doctor`` for this store (see :class:`~storage_hub.backend.Check`)."""
        return await self.backend.diagnose()

    @_on_io_loop
    async def close(self) -> None:
        """Release the backend's connections."""
        await self.backend.close()


class AsyncReader:
    """A streamed read, usable from any event loop."""

    def __init__(self, session: ReadSession) -> None:
        self._session = session
        self.size = session.size

    @_on_io_loop
    async def read(self, n: int = -1) -> bytes:
        return await self._session.read(n)

    @_on_io_loop
    async def close(self) -> None:
        await self._session.close()


class AsyncWriter:
    """A streamed atomic write, usable from any event loop. Use ``async with`` to commit or abort for you."""

    def __init__(self, session: WriteSession) -> None:
        self._session = session

    @_on_io_loop
    async def write(self, data: bytes) -> None:
        await self._session.write(bytes(data))

    @_on_io_loop
    async def commit(self) -> None:
        await self._session.commit()

    @_on_io_loop
    async def abort(self) -> None:
        await self._session.abort()

    async def __aenter__(self) -> AsyncWriter:
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            await self.commit()
        else:
            await self.abort()


def _blocking(coro: Coroutine[Any, Any, R]) -> R:
    async def run() -> R:
        return await coro

    result: R = sync(get_loop(), run)
    return result


class Store:
    """A store for scripts and notebooks: the :class:`AsyncStore` API, blocking.

    Works in a thread with a running event loop (a Jupyter kernel) as well as without. ``store.aio`` is the
    async core, for code that runs in an event loop.
    """

    def __init__(self, aio: AsyncStore) -> None:
        self.aio = aio

    @property
    def config(self) -> StoreConfig:
        return self.aio.config

    @property
    def capabilities(self) -> Capabilities:
        return self.aio.capabilities

    def url(self, path: str = "") -> str:
        return self.aio.url(path)

    @property
    def storage_options(self) -> dict[str, Any]:
        return self.aio.storage_options

    def __repr__(self) -> str:
        return f"<Store {self.config.describe()}>"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def info(self, path: str) -> Entry:
        return _blocking(self.aio.info(path))

    def exists(self, path: str) -> bool:
        return _blocking(self.aio.exists(path))

    def ls(self, path: str = "") -> list[Entry]:
        return _blocking(self.aio.ls(path))

    def find(self, path: str = "") -> list[Entry]:
        return _blocking(self.aio.find(path))

    def walk(self, path: str = "") -> list[WalkStep]:
        return _blocking(self.aio.walk(path))

    def read_bytes(self, path: str, start: int | None = None, end: int | None = None) -> bytes:
        return _blocking(self.aio.read_bytes(path, start, end))

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        return _blocking(self.aio.read_text(path, encoding))

    def read_entry(self, path: str) -> tuple[Entry, bytes]:
        return _blocking(self.aio.read_entry(path))

    def write_bytes(self, path: str, data: bytes, *, overwrite: bool = True, md5: str | None = None) -> Entry:
        return _blocking(self.aio.write_bytes(path, data, overwrite=overwrite, md5=md5))

    def write_text(self, path: str, text: str, encoding: str = "utf-8", *, overwrite: bool = True) -> Entry:
        return _blocking(self.aio.write_text(path, text, encoding, overwrite=overwrite))

    def mkdir(self, path: str, *, exist_ok: bool = False) -> None:
        _blocking(self.aio.mkdir(path, exist_ok=exist_ok))

    def delete(self, path: str, *, recursive: bool = False, missing_ok: bool = False) -> None:
        _blocking(self.aio.delete(path, recursive=recursive, missing_ok=missing_ok))

    def copy(self, src: str, dst: str, *, overwrite: bool = False, progress: Progress | None = None) -> None:
        _blocking(self.aio.copy(src, dst, overwrite=overwrite, progress=progress))

    def move(self, src: str, dst: str, *, overwrite: bool = False, progress: Progress | None = None) -> None:
        _blocking(self.aio.move(src, dst, overwrite=overwrite, progress=progress))

    def diagnose(self) -> list[Any]:
        return _blocking(self.aio.diagnose())

    def close(self) -> None:
        _blocking(self.aio.close())

    @overload
    def open(self, path: str, mode: Literal["rb"] = "rb", *, block_size: int = DEFAULT_CHUNK) -> io.BufferedReader: ...

    @overload
    def open(self, path: str, mode: Literal["wb"], *, block_size: int = DEFAULT_CHUNK) -> WriteFile: ...

    def open(
        self, path: str, mode: Literal["rb", "wb"] = "rb", *, block_size: int = DEFAULT_CHUNK
    ) -> io.BufferedReader | WriteFile:
        """A binary file object on ``path``.

        ``"rb"``: seekable and buffered, reading ``block_size`` bytes per request, so large objects stream.
        ``"wb"``: streamed and atomic; used as a context manager it commits on success and aborts on an
        exception, so an interrupted write leaves the previous object (or nothing) at ``path``.
        """
        if mode == "rb":
            entry = self.info(path)
            if entry.is_dir:
                raise IsAFolder(f"{entry.path!r} is a folder, not a file", entry.path)

            def fetch(start: int, end: int) -> bytes:
                return _blocking(self.aio.read_bytes(path, start, end))

            return io.BufferedReader(ReadFile(entry.size, fetch), buffer_size=block_size)
        if mode == "wb":
            return WriteFile(_blocking(self.aio.open_write(path)), _blocking)
        raise ValueError(f"mode must be 'rb' or 'wb', not {mode!r}")
