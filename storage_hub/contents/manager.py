"""``StorageContentsManager``: Jupyter's contents API on any Store, async end to end.

Every storage call is awaited on the store's I/O loop, so the server's event loop never blocks. Requests per
operation on S3: listing a folder is one listing per 1,000 entries (no request per entry), opening a notebook one
GET, saving one PUT (plus, the first time a notebook is saved by this server, one listing of its checkpoints).
"""

from __future__ import annotations

import fnmatch
import functools
import gc
import hashlib
import json
import os
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import nbformat
from jupyter_server.services.contents.manager import AsyncContentsManager, copy_pat
from tornado.web import HTTPError
from traitlets import Bool, Dict, Enum, Float, Int, Unicode, default, observe

from .. import paths
from ..backend import Entry
from ..config import ENV_KERNEL_STORE, ENV_KERNEL_STORE_OPTIONS, ENV_STORE, StoreConfig, env_options, without_secrets
from ..errors import InvalidPath, IsAFolder, NotAFolder, NotFound, StorageError
from ..registry import open_store
from ..store import AsyncStore, Store
from .checkpoints import StoreCheckpoints
from .files import StoreFilesHandler
from .http_errors import http_errors
from .models import FORMAT_ERROR, decode_content, encode_content, entry_model, hash_fields
from .uploads import ChunkedUploads, UploadExpired

__all__ = ["StorageContentsManager"]

#: How long a file this server has just read or written counts as existing without asking the store (seconds).
SEEN_FILE_TTL = 30.0


class StorageContentsManager(AsyncContentsManager):
    """Notebooks, files, folders and checkpoints in a storage-hub Store (S3, CORTX, local disk, any fsspec URL).

    ``c.ServerApp.contents_manager_class = "storage_hub.contents.StorageContentsManager"``
    """

    store_url = Unicode(
        config=True,
        help="""The store: s3://bucket/prefix/, cortx://bucket/prefix/, file:///path, a plain path, any fsspec URL,
        or a store name from the stores file. Default: $STORAGE_HUB_STORE if set (as `storage-hub lab` sets it),
        else the server's root_dir on local disk.""",
    )
    store_options = Dict(
        config=True,
        help="""Backend options, e.g. {"endpoint_url": "https://10.0.0.5:443", "ca_bundle": "/etc/ca.crt"}.
        Credentials come from the standard AWS chain unless given here; they are never written anywhere.
        Default: the JSON object in $STORAGE_HUB_STORE_OPTIONS when $STORAGE_HUB_STORE is set, else none.""",
    )
    check_on_start = Bool(
        True,
        config=True,
        help="Check the store when the server starts and stop it with one clear line if it cannot be used.",
    )
    freeze_startup_heap = Bool(
        True,
        config=True,
        help="After the start-up check, keep the objects made so far (botocore's S3 model, jupyter_server's own) "
        "out of the garbage collector's full passes (gc.freeze): each pass would otherwise stop the server for "
        "100-180 ms.",
    )
    upload_timeout = Float(
        3600.0,
        config=True,
        help="Seconds after which a chunked upload that stopped sending chunks is aborted.",
    )
    hash_algorithm = Enum(
        sorted(hashlib.algorithms_available),
        default_value="sha256",
        config=True,
        help="Hash algorithm of the file content in models (hashlib's names).",
    )
    max_copy_folder_size_mb = Int(500, config=True, help="The largest folder that can be copied, in MB.")
    always_delete_dir = Bool(
        True,
        config=True,
        help="Delete non-empty folders. There is no trash on object stores: a delete is final.",
    )
    delete_to_trash = Bool(
        False,
        config=True,
        help="Accepted for compatibility with FileContentsManager; there is no trash, so True acts like "
        "always_delete_dir.",
    )

    @default("checkpoints_class")
    def _default_checkpoints_class(self) -> type:
        return StoreCheckpoints

    @default("files_handler_class")
    def _default_files_handler_class(self) -> type:
        return StoreFilesHandler

    @default("store_url")
    def _default_store_url(self) -> str:
        return os.environ.get(ENV_STORE) or str(self.root_dir)

    @default("store_options")
    def _default_store_options(self) -> dict[str, Any]:
        return env_options() if os.environ.get(ENV_STORE) else {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._store: AsyncStore | None = None
        self._uploads: ChunkedUploads | None = None
        self._checkpointed: set[str] = set()
        # Files this server has just read or written, with when: jupyter_server's PUT handler asks file_exists
        # before every save only to choose 200 or 201, and that must not cost a HEAD per save.
        self._seen_files: dict[str, float] = {}
        if self.check_on_start:
            self.check_store()
            if self.freeze_startup_heap:
                _freeze_startup_heap()

    @observe("store_url", "store_options")
    def _store_changed(self, change: Any) -> None:
        self._store = None
        self._uploads = None

    # -- the store ------------------------------------------------------------------------------------------------
    @property
    def store(self) -> AsyncStore:
        """The async store behind this manager (opened on first use, checked at start-up)."""
        if self._store is None:
            self._store = open_store(self.store_url, **self.store_options).aio
            self._hand_to_kernels(self._store.config)
        return self._store

    def _hand_to_kernels(self, config: StoreConfig) -> None:
        """Kernels inherit this server's environment: name the store there, without secrets, so that notebook code
        (``open_store()``, ``read_data(...)``) works on the same store as the file browser. Credentials reach
        kernels through their own chain (the environment, a profile), as they reach this server."""
        options: Mapping[str, Any] = config.options
        target = config.url
        if config.name:  # a named store: the kernel reads the same stores file, secrets included
            target, options = config.name, self.store_options
        public = {k: v for k, v in without_secrets(options).items() if isinstance(v, (str, int, float, bool, dict))}
        os.environ[ENV_KERNEL_STORE] = target
        os.environ[ENV_KERNEL_STORE_OPTIONS] = json.dumps(public)

    @property
    def uploads(self) -> ChunkedUploads:
        if self._uploads is None:
            self._uploads = ChunkedUploads(self.store, self.upload_timeout)
        return self._uploads

    def check_store(self) -> None:
        """Fail with one clear line if the store cannot be used (wrong endpoint, credentials, bucket)."""
        try:
            checks = Store(self.store).diagnose()
        except StorageError as e:
            checks = []
            failure = str(e)
        else:
            failed = [c for c in checks if not c.ok]
            first = failed[0] if failed else None
            failure = "" if first is None else first.detail
            if first is not None and first.fix and first.fix not in first.detail:
                failure += f"; {first.fix}"
        if failure:
            self.log.critical("storage-hub cannot use the store %s: %s", self.store_url, failure)
            raise SystemExit(1)

    def info_string(self) -> str:
        return f"Serving notebooks from {self.store.config.describe()}"

    # -- paths and hidden files -------------------------------------------------------------------------------
    def _path(self, path: str) -> str:
        """The normalised API path; an escape from the root is a 404, as jupyter_server answers it."""
        try:
            return paths.normalize(path.strip("/"))
        except InvalidPath as e:
            raise HTTPError(404, f"{path} is outside root contents directory") from e

    def _is_hidden(self, path: str) -> bool:
        return any(part.startswith(".") for part in path.split("/") if part)

    async def is_hidden(self, path: str) -> bool:
        return self._is_hidden(self._path(path))

    @property
    def _checkpoint_dir(self) -> str:
        """The hidden folder of checkpoints, never listed (empty if the checkpoints class keeps none in the store)."""
        return str(getattr(self.checkpoints, "checkpoint_dir", ""))

    def _listed(self, name: str) -> bool:
        """As jupyter_server: ``hide_globs`` always apply, dot-names only unless ``allow_hidden``."""
        if name == self._checkpoint_dir or any(fnmatch.fnmatch(name, glob) for glob in self.hide_globs):
            return False
        return self.allow_hidden or not name.startswith(".")

    def _refuse_hidden(self, path: str, status: int, action: str) -> None:
        if not self.allow_hidden and self._is_hidden(path):
            raise HTTPError(status, f"Cannot {action} hidden file or directory {path!r}")

    # -- existence ----------------------------------------------------------------------------------------------
    async def _info(self, path: str) -> Entry | None:
        with http_errors(path):
            try:
                return await self.store.info(path)
            except NotFound:
                return None

    async def dir_exists(self, path: str) -> bool:
        path = self._path(path)
        entry = await self._info(path)
        return entry is not None and entry.is_dir

    async def file_exists(self, path: str) -> bool:
        path = self._path(path)
        seen = self._seen_files.get(path)
        if seen is not None and time.monotonic() - seen < SEEN_FILE_TTL:
            return True
        if path in self.uploads:
            return False  # a chunked upload in progress: nothing is at the path until its last chunk
        with http_errors(path):
            return await self.store.is_file(path)

    def _seen(self, path: str) -> None:
        self._seen_files[path] = time.monotonic()
        if len(self._seen_files) > 10_000:
            self._seen_files.clear()

    def _forget(self, path: str) -> None:
        """Drop what this server remembers about ``path`` and everything below it."""
        for known in [p for p in self._seen_files if paths.is_within(p, path)]:
            del self._seen_files[known]
        self._checkpointed = {p for p in self._checkpointed if not paths.is_within(p, path)}

    async def exists(self, path: str) -> bool:
        return await self._info(self._path(path)) is not None

    # -- get ----------------------------------------------------------------------------------------------------------
    async def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        path = self._path(path)
        self._refuse_hidden(path, 404, "serve")
        with http_errors(path):
            model = await self._get(path, content, type, format, require_hash)
        self.emit(data={"action": "get", "path": path})
        return model

    async def _get(
        self, path: str, content: bool, kind: str | None, fmt: str | None, require_hash: bool
    ) -> dict[str, Any]:
        # Paths without an extension are listed first: one listing for a folder, no HEAD.
        if kind == "directory" or not path or (kind is None and "." not in paths.basename(path)):
            try:
                return await self._dir_model(path, content)
            except NotAFolder:
                if kind == "directory":
                    raise HTTPError(400, f"{path} is not a directory", reason="bad type") from None
        data: bytes | None = None
        try:
            if content or require_hash:
                entry, data = await self.store.read_entry(path)
            else:
                entry = await self.store.info(path)
                if entry.is_dir:
                    raise IsAFolder(path, path)
        except IsAFolder:
            if kind not in (None, "directory"):
                raise HTTPError(400, f"{path} is a directory, not a {kind}", reason="bad type") from None
            return await self._dir_model(path, content)
        if kind == "directory":
            raise HTTPError(400, f"{path} is not a directory", reason="bad type")
        if data is not None:
            self._seen(path)
        if kind == "notebook" or (kind is None and path.endswith(".ipynb")):
            return self._notebook_model(entry, data if content else None, data if require_hash else None)
        return self._file_model(entry, data if content else None, fmt, data if require_hash else None)

    async def _dir_model(self, path: str, content: bool) -> dict[str, Any]:
        if not content:
            entry = await self.store.info(path)
            if not entry.is_dir:
                raise NotAFolder(path, path)
            return entry_model(entry, "directory")
        folder, entries = await self.store.ls_folder(path)
        model = entry_model(folder, "directory")
        model["content"] = [entry_model(e) for e in entries if self._listed(e.name)]
        model["format"] = "json"
        return model

    def _file_model(self, entry: Entry, data: bytes | None, fmt: str | None, hashed: bytes | None) -> dict[str, Any]:
        model = entry_model(entry, "file")
        if data is not None:
            try:
                model["content"], model["format"] = decode_content(data, fmt)
            except ValueError as e:
                raise HTTPError(400, f"{entry.path} {e}", reason="bad format") from e
            model["mimetype"] = model["mimetype"] or (
                "text/plain" if model["format"] == "text" else "application/octet-stream"
            )
        if hashed is not None:
            model.update(hash_fields(hashed, self.hash_algorithm))
        return model

    def _notebook_model(self, entry: Entry, data: bytes | None, hashed: bytes | None) -> dict[str, Any]:
        model = entry_model(entry, "notebook")
        if data is not None:
            validation_error: dict[str, Any] = {}
            try:
                nb = nbformat.reads(data.decode("utf-8"), as_version=4, capture_validation_error=validation_error)
            except Exception as e:
                raise HTTPError(400, f"Unreadable Notebook: {entry.path} {e!r}") from e
            self.mark_trusted_cells(nb, entry.path)
            model["content"] = nb
            model["format"] = "json"
            self.validate_notebook_model(model, validation_error)
        if hashed is not None:
            model.update(hash_fields(hashed, self.hash_algorithm))
        return model

    # -- save -------------------------------------------------------------------------------------------------------
    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        path = self._path(path)
        if not path:
            raise HTTPError(400, "Cannot save over the root directory")
        chunk = model.get("chunk")
        if chunk is not None:
            return await self._save_chunk(model, path, int(chunk))
        self.run_pre_save_hooks(model=model, path=path)
        kind = model.get("type")
        if not kind:
            raise HTTPError(400, "No file type provided")
        if "content" not in model and kind != "directory":
            raise HTTPError(400, "No file content provided")
        self._refuse_hidden(path, 400, "create")
        validation_message = None
        with http_errors(path):
            if kind == "notebook":
                saved, validation_message = await self._save_notebook(model, path)
            elif kind == "file":
                data = self._encode(model["content"], model.get("format"), path)
                entry = await self.store.write_bytes(path, data)
                saved = {**entry_model(entry, "file"), **hash_fields(data, self.hash_algorithm)}
            elif kind == "directory":
                existing = await self._info(path)
                if existing is not None and not existing.is_dir:
                    raise HTTPError(400, f"Not a directory: {path}")
                if existing is None:
                    await self.store.mkdir(path, exist_ok=True)
                saved = entry_model(await self.store.info(path), "directory")
            else:
                raise HTTPError(400, f"Unhandled contents type: {kind}")
        if validation_message:
            saved["message"] = validation_message
        if kind != "directory":
            self._seen(path)
        self.run_post_save_hooks(model=saved, os_path=self.store.url(path))
        self.emit(data={"action": "save", "path": path})
        return saved

    @staticmethod
    def _encode(content: Any, fmt: str | None, path: str) -> bytes:
        if fmt not in ("text", "base64"):
            raise HTTPError(400, FORMAT_ERROR)
        try:
            return encode_content(content, fmt)
        except ValueError as e:
            raise HTTPError(400, f"Encoding error saving {path}: {e}") from e

    async def _save_notebook(self, model: dict[str, Any], path: str) -> tuple[dict[str, Any], str | None]:
        validation_error: dict[str, Any] = {}
        try:
            nb = nbformat.from_dict(model["content"])
        except Exception as e:  # the user's malformed notebook
            raise HTTPError(400, f"Invalid notebook content for {path}: {e}") from e
        try:
            text = nbformat.writes(nb, version=nbformat.NO_CONVERT, capture_validation_error=validation_error)
        except Exception as e:  # the user's malformed notebook: nothing was written
            raise HTTPError(400, f"Invalid notebook content for {path}: {e!r}") from e
        try:
            self.check_and_sign(nb, path)  # signatures live in the notary's database, not in the notebook
        except HTTPError:
            raise
        except (AttributeError, KeyError, TypeError) as e:  # a notebook without the structure signing reads
            raise HTTPError(400, f"Invalid notebook content for {path}: {e!r}") from e
        except Exception as e:  # the server's own signature store failed: not the user's fault
            self.log.error("Error while saving file: %s %s", path, e)
            raise HTTPError(500, f"Unexpected error while saving file: {path} {e}") from e
        data = text.encode("utf-8")
        entry = await self.store.write_bytes(path, data)
        if path not in self._checkpointed:
            # One checkpoint should always exist for notebooks (as jupyter_server does); listed once per path.
            if not await self.checkpoints.list_checkpoints(path):
                await self.create_checkpoint(path)
            self._checkpointed.add(path)
        saved = {**entry_model(entry, "notebook"), **hash_fields(data, self.hash_algorithm)}
        check = {"content": model["content"], "type": "notebook"}
        self.validate_notebook_model(check, validation_error)  # reports what writes() found; no second pass
        return saved, check.get("message")

    async def _save_chunk(self, model: dict[str, Any], path: str, chunk: int) -> dict[str, Any]:
        """One chunk of a large upload, with jupyter_server's LargeFileManager checks and messages."""
        if chunk == 1:
            self.run_pre_save_hooks(model=model, path=path)
        if "type" not in model:
            raise HTTPError(400, "No file type provided")
        if model["type"] != "file":
            raise HTTPError(400, f'File type "{model["type"]}" is not supported for large file transfer')
        if "content" not in model:
            raise HTTPError(400, "No file content provided")
        self._refuse_hidden(path, 400, "create")
        data = self._encode(model["content"], model.get("format"), path)
        with http_errors(path):
            try:
                size = await self.uploads.receive(path, chunk, data)
            except UploadExpired as e:
                raise HTTPError(400, str(e)) from e
            if chunk != -1:
                # Nothing is at the path yet: the model says what has arrived so far.
                return entry_model(Entry(path, "file", size=size, last_modified=datetime.now(timezone.utc)), "file")
            saved = entry_model(await self.store.info(path), "file")
        self._seen(path)
        self.run_post_save_hooks(model=saved, os_path=self.store.url(path))
        self.emit(data={"action": "save", "path": path})
        return saved

    # -- delete, rename, copy -------------------------------------------------------------------------------------
    async def delete_file(self, path: str) -> None:
        path = self._path(path)
        if not path:
            raise HTTPError(400, "Can't delete root")
        self._refuse_hidden(path, 400, "delete")
        self._forget(path)
        with http_errors(path):
            entry = await self.store.info(path)
            if not entry.is_dir:
                await self.store.delete(path)
                return
            if not (self.always_delete_dir or self.delete_to_trash):
                children = await self.store.ls(path)
                if any(c.name != self._checkpoint_dir for c in children):
                    raise HTTPError(400, f"Directory {path} not empty")
            await self.store.delete(path, recursive=True)

    async def rename_file(self, old_path: str, new_path: str) -> None:
        old_path, new_path = self._path(old_path), self._path(new_path)
        if old_path == new_path:
            return
        if not old_path or not new_path:
            raise HTTPError(400, "Cannot rename the root directory")
        self._refuse_hidden(old_path, 400, "rename")
        self._refuse_hidden(new_path, 400, "rename")
        with http_errors(new_path):
            self._forget(old_path)
            await self.store.move(old_path, new_path)  # refuses an existing new_path: 409

    async def copy(self, from_path: str, to_path: str | None = None) -> dict[str, Any]:
        """Copy a file or a whole folder server-side, with jupyter_server's naming.

        A file copied into a folder becomes ``name-Copy1.ext`` there if ``name.ext`` is taken; a file copied to
        a path that is not a folder is written at that path. A folder always goes into ``to_path`` (default: its
        own parent) under its own name, ``name-Copy1`` if taken, and may not exceed ``max_copy_folder_size_mb``.
        """
        path = self._path(from_path)
        from_dir, from_name = paths.parent(path), paths.basename(path)
        self._refuse_hidden(path, 404, "copy")
        source = await self._info(path)
        if source is None:
            raise HTTPError(404, f"No such file or directory: {path}")
        target = from_dir if to_path is None else self._path(to_path)
        name = copy_pat.sub(".", from_name)
        if source.is_dir:
            await self._check_folder_size(path)
            if await self.dir_exists(target):
                name = await self.increment_filename(name, target, insert="-Copy")
            target = paths.join(target, name)
        elif await self.dir_exists(target):
            target = paths.join(target, await self.increment_filename(name, target, insert="-Copy"))
        elif to_path is None:
            raise HTTPError(404, f"No such directory: {target}")
        elif paths.parent(target) and not await self.dir_exists(paths.parent(target)):
            raise HTTPError(404, f"No such parent directory: {paths.parent(target)} to copy file in")
        self._refuse_hidden(target, 400, "create")
        with http_errors(target):
            await self.store.copy(path, target, overwrite=not source.is_dir)
        model = await self.get(target, content=False)
        self.emit(data={"action": "copy", "path": target, "source_path": from_path})
        return model

    async def _check_folder_size(self, path: str) -> None:
        with http_errors(path):
            size = sum(e.size for e in await self.store.find(path) if not e.is_dir)
        limit = self.max_copy_folder_size_mb * 1024 * 1024
        if size > limit:
            raise HTTPError(
                400, f"Can't copy folders larger than {self.max_copy_folder_size_mb}MB, {path!r} is {size} bytes"
            )

    async def get_kernel_path(self, path: str, model: Any = None) -> str:
        """Kernels start in the notebook's folder when it exists on local disk, else in the server's root."""
        path = self._path(path)
        return path if await self.dir_exists(path) else paths.parent(path)


@functools.cache
def _freeze_startup_heap() -> None:
    """Once per process: move every object tracked so far to the collector's permanent generation. A full pass
    visits every tracked object, 150-180 ms here once botocore's S3 model is loaded, with the GIL held: the server
    answered nothing for that long, once every few listings of a folder of 1,000 notebooks. Frozen objects live as
    long as the process, as start-up objects do anyway."""
    gc.freeze()
