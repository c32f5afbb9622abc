"""storage-hub: one Store interface over local disk, S3, CORTX and any fsspec URL, for Jupyter and notebooks."""

from __future__ import annotations

from .backend import Capabilities, Check, Entry
from .config import StoreConfig
from .errors import (
    AlreadyExists,
    AuthenticationError,
    BackendUnavailable,
    BucketNotFound,
    ConfigurationError,
    Conflict,
    FolderNotEmpty,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
    PartialFailure,
    PermissionDenied,
    StorageError,
)
from .registry import open_store, register_backend
from .store import AsyncStore, Store

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "AsyncStore",
    "AuthenticationError",
    "BackendUnavailable",
    "BucketNotFound",
    "Capabilities",
    "Check",
    "ConfigurationError",
    "Conflict",
    "Entry",
    "FolderNotEmpty",
    "InvalidPath",
    "IsAFolder",
    "NotAFolder",
    "NotFound",
    "PartialFailure",
    "PermissionDenied",
    "StorageError",
    "Store",
    "StoreConfig",
    "open_store",
    "register_backend",
]
