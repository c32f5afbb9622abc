"""Pure builders of Jupyter contents models from store entries: no I/O, every required key set."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from datetime import datetime, timezone
from typing import Any

from ..backend import Entry

__all__ = ["EPOCH", "FORMAT_ERROR", "decode_content", "encode_content", "entry_model", "hash_fields", "kind_of"]

#: The time shown for a folder whose time the store does not know (a key prefix on an object store).
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def kind_of(entry: Entry) -> str:
    """``directory``, ``notebook`` (by the ``.ipynb`` extension) or ``file``."""
    if entry.is_dir:
        return "directory"
    return "notebook" if entry.path.endswith(".ipynb") else "file"


def entry_model(entry: Entry, kind: str | None = None) -> dict[str, Any]:
    """The model of ``entry`` without content (the shape of a listing item and of a ``content=0`` reply)."""
    kind = kind or kind_of(entry)
    modified = entry.last_modified or entry.created or EPOCH
    return {
        "name": entry.name,
        "path": entry.path,
        "type": kind,
        "last_modified": modified,
        "created": entry.created or modified,
        "content": None,
        "format": None,
        "mimetype": mimetypes.guess_type(entry.path)[0] if kind == "file" else None,
        "size": None if kind == "directory" else entry.size,
        "writable": True,
        "hash": None,
        "hash_algorithm": None,
    }


def hash_fields(data: bytes, algorithm: str = "sha256") -> dict[str, str]:
    """``hash`` and ``hash_algorithm`` of the content, as jupyter_server computes them."""
    return {"hash": hashlib.new(algorithm, data).hexdigest(), "hash_algorithm": algorithm}


def decode_content(data: bytes, fmt: str | None) -> tuple[str, str]:
    """Content and format of a file model: ``text`` (UTF-8) or ``base64``; ``None`` picks text when it decodes.

    Raises
    ------
    ValueError
        If ``text`` was asked for and the bytes are not UTF-8.
    """
    if fmt != "base64":
        try:
            return data.decode("utf-8"), "text"
        except UnicodeDecodeError:
            if fmt == "text":
                raise ValueError("is not UTF-8 encoded") from None
    return base64.b64encode(data).decode("ascii"), "base64"


FORMAT_ERROR = "Must specify format of file contents as 'text' or 'base64'"


def encode_content(content: Any, fmt: str | None) -> bytes:
    """The bytes of a file model's content.

    Raises
    ------
    ValueError
        If the format is neither ``text`` nor ``base64`` (message: ``FORMAT_ERROR``) or the content does not encode.
    """
    if fmt == "text":
        if not isinstance(content, str):
            raise ValueError("text content must be a string")
        return content.encode("utf-8")
    if fmt == "base64":
        if not isinstance(content, str):
            raise ValueError("base64 content must be a string")
        try:
            return base64.b64decode(content.encode("ascii"), validate=False)
        except (ValueError, UnicodeEncodeError) as e:
            raise ValueError(f"content is not valid base64: {e}") from e
    raise ValueError(FORMAT_ERROR)
