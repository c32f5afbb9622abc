"""The typed errors of storage-hub.

Every error is a :class:`StorageError` and also the builtin that fits it, so callers may catch either
(``except storage_hub.NotFound`` or ``except FileNotFoundError``). Messages name the store and the path and say
what to do; they never contain a secret.
"""

from __future__ import annotations

import errno

__all__ = [
    "AlreadyExists",
    "AuthenticationError",
    "BackendUnavailable",
    "BucketNotFound",
    "ConfigurationError",
    "Conflict",
    "FolderNotEmpty",
    "InvalidPath",
    "IsAFolder",
    "MissingDependency",
    "NotAFolder",
    "NotFound",
    "PartialFailure",
    "PermissionDenied",
    "StorageError",
    "UnsupportedFormat",
    "UntrustedModel",
]


class StorageError(Exception):
    """Base of every storage-hub error.

    Parameters
    ----------
    message:
        What went wrong and, where it helps, what to do about it.
    path:
        The store-relative path the operation was about, if any.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return self.message


class NotFound(StorageError, FileNotFoundError):
    """The file or folder does not exist."""

    def __init__(self, message: str, path: str | None = None) -> None:
        StorageError.__init__(self, message, path)
        self.errno = errno.ENOENT


class BucketNotFound(NotFound):
    """The bucket the store points at does not exist (a configuration problem, not a missing file)."""


class AlreadyExists(StorageError, FileExistsError):
    """The target exists and the operation was asked not to replace it."""

    def __init__(self, message: str, path: str | None = None) -> None:
        StorageError.__init__(self, message, path)
        self.errno = errno.EEXIST


class NotAFolder(StorageError, NotADirectoryError):
    """A folder operation was asked of a file."""

    def __init__(self, message: str, path: str | None = None) -> None:
        StorageError.__init__(self, message, path)
        self.errno = errno.ENOTDIR


class IsAFolder(StorageError, IsADirectoryError):
    """A file operation was asked of a folder."""

    def __init__(self, message: str, path: str | None = None) -> None:
        StorageError.__init__(self, message, path)
        self.errno = errno.EISDIR


class FolderNotEmpty(StorageError, OSError):
    """A non-recursive delete was asked of a folder that has content."""

    def __init__(self, message: str, path: str | None = None) -> None:
        StorageError.__init__(self, message, path)
        self.errno = errno.ENOTEMPTY


class PermissionDenied(StorageError, PermissionError):
    """The server refused the operation for these credentials."""

    def __init__(self, message: str, path: str | None = None) -> None:
        StorageError.__init__(self, message, path)
        self.errno = errno.EACCES


class AuthenticationError(PermissionDenied):
    """The credentials themselves are wrong: unknown key, bad secret, clock skew, none found."""


class Conflict(StorageError, OSError):
    """The object changed underneath the operation (a failed precondition)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        StorageError.__init__(self, message, path)
        self.errno = errno.EBUSY


class ChecksumMismatch(StorageError, OSError):
    """The bytes that arrived (or were read) are not the ones expected: a size or checksum differs."""


class InvalidPath(StorageError, ValueError):
    """The path is refused before any request is sent (escape from the root, NUL, too long...)."""


class BackendUnavailable(StorageError, ConnectionError):
    """The storage server could not be reached or kept failing after retries."""


class ConfigurationError(StorageError, ValueError):
    """The store configuration is wrong or incomplete."""


class UnsupportedFormat(StorageError, ValueError):
    """``write_data`` / ``read_data`` / the model functions were given a value or extension they don't handle; the
    message lists what they do handle."""


class MissingDependency(StorageError, ImportError):
    """An optional library a format needs is not installed; the message says what to install."""


class UntrustedModel(StorageError, PermissionError):
    """Loading this model could run code from the store (pickle), and the caller did not pass ``trusted=True``."""

    def __init__(self, message: str, path: str | None = None) -> None:
        StorageError.__init__(self, message, path)
        self.errno = errno.EACCES


class PartialFailure(StorageError, OSError):
    """A bulk operation failed for some entries.

    ``failed`` maps each store-relative path that failed to its error; ``done`` lists what succeeded.
    """

    def __init__(
        self,
        message: str,
        path: str | None = None,
        *,
        failed: dict[str, BaseException],
        done: list[str],
    ) -> None:
        StorageError.__init__(self, message, path)
        self.failed = failed
        self.done = done
