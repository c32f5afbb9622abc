"""Jupyter contents on any Store.

``c.ServerApp.contents_manager_class = "storage_hub.contents.StorageContentsManager"``

The only part of storage-hub that imports jupyter_server and tornado.
"""

from __future__ import annotations

from .checkpoints import StoreCheckpoints
from .files import StoreFilesHandler
from .manager import StorageContentsManager

__all__ = ["StorageContentsManager", "StoreCheckpoints", "StoreFilesHandler"]
