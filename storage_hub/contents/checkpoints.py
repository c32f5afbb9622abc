"""Checkpoints kept in the same store as the files, hidden, several per file.

The checkpoints of ``folder/name.ipynb`` are the objects ``folder/.ipynb_checkpoints/name.ipynb/<id>``: one
server-side copy to create or restore, one listing to list, and they move with a folder because they live inside
it. A file's rename moves its checkpoint folder; its deletion deletes it. Ids are UTC timestamps, so they sort by
time and give each checkpoint its time without another request.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from jupyter_server.services.contents.checkpoints import AsyncCheckpoints
from tornado.web import HTTPError
from traitlets import Integer, Unicode

from .. import paths
from ..errors import NotFound
from .http_errors import http_errors

if TYPE_CHECKING:
    from ..store import AsyncStore

__all__ = ["StoreCheckpoints"]

_ID_FORMAT = "%Y%m%dT%H%M%S%fZ"


def new_checkpoint_id(now: datetime | None = None) -> str:
    """A sortable, unique id: the UTC time to the microsecond and a random suffix."""
    now = now or datetime.now(timezone.utc)
    return f"{now.strftime(_ID_FORMAT)}-{secrets.token_hex(2)}"


def checkpoint_time(checkpoint_id: str) -> datetime:
    """The creation time encoded in a checkpoint id."""
    try:
        return datetime.strptime(checkpoint_id.split("-", 1)[0], _ID_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=timezone.utc)


class StoreCheckpoints(AsyncCheckpoints):
    """Checkpoints in the contents manager's own store (``checkpoints_class`` of ``StorageContentsManager``)."""

    checkpoint_dir = Unicode(
        ".ipynb_checkpoints",
        config=True,
        help="Hidden folder, next to each file, that holds its checkpoints. Never listed.",
    )
    retention = Integer(
        10,
        min=1,
        config=True,
        help="Checkpoints kept per file; when a new one goes over, the oldest are deleted.",
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Checkpoints per path as last seen by this server, so that a create lists only when it may go over.
        self._counts: dict[str, int] = {}

    @property
    def store(self) -> AsyncStore:
        manager: Any = self.parent
        store: AsyncStore = manager.store
        return store

    def folder(self, path: str) -> str:
        """The checkpoint folder of the file at ``path``."""
        path = path.strip("/")
        return paths.join(paths.parent(path), self.checkpoint_dir, paths.basename(path))

    def _key(self, checkpoint_id: str, path: str) -> str:
        if not checkpoint_id or "/" in checkpoint_id or checkpoint_id in (".", ".."):
            raise HTTPError(404, f"Checkpoint does not exist: {path}@{checkpoint_id}")
        return paths.join(self.folder(path), checkpoint_id)

    @staticmethod
    def _model(checkpoint_id: str) -> dict[str, Any]:
        return {"id": checkpoint_id, "last_modified": checkpoint_time(checkpoint_id)}

    async def create_checkpoint(self, contents_mgr: Any, path: str) -> dict[str, Any]:
        """Copy the file server-side to a new checkpoint; prune the oldest beyond ``retention``."""
        checkpoint_id = new_checkpoint_id()
        with http_errors(path):
            await self.store.copy_file(path.strip("/"), self._key(checkpoint_id, path))
        known = self._counts.get(path)
        if known is not None:
            self._counts[path] = known + 1
            if known + 1 > self.retention:
                await self.list_checkpoints(path)
        return self._model(checkpoint_id)

    async def restore_checkpoint(self, contents_mgr: Any, checkpoint_id: str, path: str) -> None:
        """Copy the checkpoint server-side over the file."""
        key = self._key(checkpoint_id, path)
        try:
            await self.store.copy_file(key, path.strip("/"))
        except NotFound as e:
            raise HTTPError(404, f"Checkpoint does not exist: {path}@{checkpoint_id}") from e

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        """The file's checkpoints, oldest first (the newest ``retention``; older ones are deleted now).

        Oldest first is the order JupyterLab relies on: it takes the last one as the latest (to restore without
        an id, for "Last Checkpoint" in a tab's tooltip) and reverses the list to offer the newest first.
        """
        with http_errors(path):
            try:
                entries = await self.store.ls(self.folder(path))
            except NotFound:
                entries = []
        ids = sorted(e.name for e in entries if not e.is_dir)
        if len(ids) > self.retention:
            for old in ids[: -self.retention]:
                await self.store.delete(self._key(old, path), missing_ok=True)
            ids = ids[-self.retention :]
        self._counts[path] = len(ids)
        return [self._model(i) for i in ids]

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        try:
            await self.store.delete(self._key(checkpoint_id, path))
        except NotFound as e:
            raise HTTPError(404, f"Checkpoint does not exist: {path}@{checkpoint_id}") from e
        self._counts.pop(path, None)

    async def rename_checkpoint(self, checkpoint_id: str, old_path: str, new_path: str) -> None:
        with http_errors(old_path):
            await self.store.move(
                self._key(checkpoint_id, old_path), self._key(checkpoint_id, new_path), overwrite=True
            )

    async def rename_all_checkpoints(self, old_path: str, new_path: str) -> None:
        """Move the file's checkpoint folder with it (a folder's checkpoints move inside the folder itself)."""
        old, new = self.folder(old_path), self.folder(new_path)
        self._counts.pop(old_path, None)
        with http_errors(old_path):
            if await self.store.exists(old):
                await self.store.move(old, new, overwrite=True)

    async def delete_all_checkpoints(self, path: str) -> None:
        self._counts.pop(path, None)
        with http_errors(path):
            await self.store.delete(self.folder(path), recursive=True, missing_ok=True)
