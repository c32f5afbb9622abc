"""storage-hub: one Store interface over local disk, S3, CORTX and any fsspec URL, for Jupyter and notebooks."""

from __future__ import annotations

from .backend import Capabilities, Check, Entry
from .config import StoreConfig
from .errors import (
    AlreadyExists,
    AuthenticationError,
    BackendUnavailable,
    BucketNotFound,
    ChecksumMismatch,
    ConfigurationError,
    Conflict,
    FolderNotEmpty,
    InvalidPath,
    IsAFolder,
    MissingDependency,
    NotAFolder,
    NotFound,
    PartialFailure,
    PermissionDenied,
    StorageError,
    UnsupportedFormat,
    UntrustedModel,
)
from .io_helpers import DataStore, default_store, open_store, read_data, read_model, write_data, write_model
from .registry import register_backend
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
    "ChecksumMismatch",
    "ConfigurationError",
    "Conflict",
    "DataStore",
    "Entry",
    "FolderNotEmpty",
    "InvalidPath",
    "IsAFolder",
    "MissingDependency",
    "NotAFolder",
    "NotFound",
    "PartialFailure",
    "PermissionDenied",
    "StorageError",
    "Store",
    "StoreConfig",
    "UnsupportedFormat",
    "UntrustedModel",
    "default_store",
    "open_store",
    "read_data",
    "read_model",
    "register_backend",
    "write_data",
    "write_model",
]
