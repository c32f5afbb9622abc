"""Store-relative paths and backend keys.

A *path* is what users and Jupyter give: relative to the store root, ``/``-separated, ``""`` for the root.
A *key* is what a backend addresses: the store's root followed by the path (``bucket/prefix/a/b.txt`` on S3,
``/home/me/notebooks/a/b.txt`` on local disk). This module is the one place that maps one onto the other and refuses
paths that would escape the root. Names are kept exactly as given: no Unicode normalisation, no replacement of
spaces or punctuation.
"""

from __future__ import annotations

import re

from .errors import InvalidPath

__all__ = ["basename", "is_within", "join", "normalize", "parent", "relative", "to_key"]

# C0 controls and DEL: NUL truncates paths in C APIs, the others cannot be written in S3's XML listings.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalize(path: str) -> str:
    """Return the canonical form of a store-relative path.

    Trailing slashes and ``.`` components are dropped; ``""`` is the root.

    Raises
    ------
    InvalidPath
        If the path is not a string, is absolute, contains ``..``, a backslash, NUL or another control
        character, or an empty component (``a//b``).
    """
    if not isinstance(path, str):
        raise InvalidPath(f"path must be a string, not {type(path).__name__}")
    if _CONTROL.search(path):
        raise InvalidPath(f"path {path!r} contains a control character", path)
    if "\\" in path:
        raise InvalidPath(f"path {path!r} contains a backslash; use '/' between folders", path)
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise InvalidPath(f"path {path!r} is absolute; paths are relative to the store root", path)
    parts = path.rstrip("/").split("/") if path.rstrip("/") else []
    kept: list[str] = []
    for part in parts:
        if part == "..":
            raise InvalidPath(f"path {path!r} leaves the store root ('..' is not allowed)", path)
        if part == "":
            raise InvalidPath(f"path {path!r} has an empty folder name ('//')", path)
        if part != ".":
            kept.append(part)
    return "/".join(kept)


def join(*parts: str) -> str:
    """Join store-relative paths, normalising the result."""
    return normalize("/".join(p for p in parts if p))


def parent(path: str) -> str:
    """The parent folder of a normalised path (``""`` for a top-level entry)."""
    return path.rpartition("/")[0]


def basename(path: str) -> str:
    """The last component of a normalised path."""
    return path.rpartition("/")[2]


def is_within(path: str, folder: str) -> bool:
    """Whether normalised ``path`` is ``folder`` or lies below it."""
    return folder in ("", path) or path.startswith(folder + "/")


def to_key(root: str, path: str) -> str:
    """Map a normalised store-relative path to the backend key under ``root``."""
    if not path:
        return root
    if root in ("", "/"):
        return root + path
    return f"{root}/{path}"


def relative(root: str, key: str) -> str:
    """Map a backend key back to its store-relative path.

    Raises
    ------
    InvalidPath
        If ``key`` does not lie under ``root``.
    """
    key = key.rstrip("/") if key not in ("", "/") else key
    if key == root or (root in ("", "/") and key in ("", "/")):
        return ""
    prefix = root if root.endswith("/") else root + "/"
    if root == "":
        prefix = ""
    if not key.startswith(prefix):
        raise InvalidPath(f"key {key!r} is outside the store root {root!r}")
    return key[len(prefix) :]
