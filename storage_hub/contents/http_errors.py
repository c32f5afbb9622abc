"""The one place where storage errors become HTTP errors for the Jupyter REST API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tornado.web import HTTPError

from ..errors import (
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

__all__ = ["http_errors"]

# Most specific first: BucketNotFound is a NotFound, AuthenticationError a PermissionDenied.
_STATUS: list[tuple[type[StorageError], int]] = [
    (BucketNotFound, 500),
    (AuthenticationError, 500),
    (NotFound, 404),
    (InvalidPath, 400),
    (AlreadyExists, 409),
    (Conflict, 409),
    (NotAFolder, 400),
    (IsAFolder, 400),
    (FolderNotEmpty, 400),
    (PermissionDenied, 403),
    (BackendUnavailable, 503),
    (ConfigurationError, 500),
    (PartialFailure, 500),
]


def status_of(error: StorageError) -> int:
    """The HTTP status for a storage error (500 for one not listed)."""
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 500)


@contextmanager
def http_errors(path: str) -> Iterator[None]:
    """Turn storage errors in the block into ``HTTPError`` with a clear message (no stack trace, no secret).

    Server-side problems (credentials, a missing bucket, an unreachable store) keep their message, which says
    what to fix; a missing file is ``404`` naming the path the user asked for.
    """
    try:
        yield
    except StorageError as e:
        status = status_of(e)
        user_facing = {
            AlreadyExists: f"File already exists: {path}",
            FolderNotEmpty: f"Directory {path} not empty",
            NotAFolder: f"{path} is not a directory",
            IsAFolder: f"{path} is a directory",
        }
        if isinstance(e, NotFound) and not isinstance(e, BucketNotFound):
            message = f"No such file or directory: {path}"
        else:
            message = next((text for kind, text in user_facing.items() if isinstance(e, kind)), str(e))
        raise HTTPError(status, message, reason=type(e).__name__) from e
