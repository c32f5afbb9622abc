"""Helpers for the ported jupyter_server contents tests.

``expected_http_error`` is copied from jupyter_server 2.21.1 (sdist, ``tests/utils.py``).
Copyright (c) 2001-2015, IPython Development Team; Copyright (c) 2015-, Jupyter Development Team.
BSD 3-Clause License: see LICENSE.jupyter_server in this folder.

The rest is ours: the ports write their fixtures through a Store instead of ``os`` calls on the local disk.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from tornado.httpclient import HTTPClientError
from tornado.web import HTTPError

from storage_hub import NotFound, Store, open_store


def expected_http_error(error, expected_code, expected_message=None):
    """Check that the error matches the expected output error."""
    e = error.value
    if isinstance(e, HTTPError):
        if expected_code != e.status_code:
            return False
        return not (expected_message is not None and expected_message != str(e))
    elif any(
        [
            isinstance(e, HTTPClientError),
            isinstance(e, HTTPError),
        ]
    ):
        if expected_code != e.code:
            return False
        if expected_message:
            message = json.loads(e.response.body.decode())["message"]
            if expected_message != message:
                return False
        return True


def store_of(contents_manager: Any) -> Store:
    """A Store on the same location as ``contents_manager``: its ``store_url`` and ``store_options``.

    jupyter_server's own managers (the reference run, ``STORAGE_HUB_CONTENTS_REFERENCE=1``) have no store: their
    ``root_dir`` is opened as a local store. Use it as a context manager, it is closed on exit.
    """
    url = getattr(contents_manager, "store_url", None)
    if url is None:
        return open_store(contents_manager.root_dir)
    return open_store(url, **dict(getattr(contents_manager, "store_options", None) or {}))


class StorePath:
    """The part of :class:`pathlib.Path` that jupyter_server's tests use on their contents folder, on a Store.

    ``contents_dir / "a b" / "x.txt"`` names ``a b/x.txt`` in the store; ``str()`` is the store URL of that path.
    """

    def __init__(self, store: Store, path: str = "") -> None:
        self.store = store
        self.path = path

    def joinpath(self, *parts: object) -> StorePath:
        names = [self.path, *(str(p).strip("/") for p in parts)]
        return StorePath(self.store, "/".join(n for n in names if n))

    def __truediv__(self, other: object) -> StorePath:
        return self.joinpath(other)

    def __str__(self) -> str:
        return self.store.config.url.rstrip("/") + ("/" + self.path if self.path else "")

    def __repr__(self) -> str:
        return f"StorePath({self.store.config.url!r}, {self.path!r})"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def relative_to(self, other: StorePath) -> PurePosixPath:
        if other.path and not (self.path == other.path or self.path.startswith(other.path + "/")):
            raise ValueError(f"{self.path!r} is not in {other.path!r}")
        return PurePosixPath(self.path[len(other.path) :].lstrip("/"))

    def mkdir(self, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        # A store folder is made with its parents; upstream always passes parents=True.
        if self.path:
            self.store.mkdir(self.path, exist_ok=exist_ok)

    def write_text(self, data: str, encoding: str | None = None, errors: str | None = None) -> int:
        raw = data.encode(encoding or "utf-8", errors or "strict")
        self.store.write_bytes(self.path, raw)
        return len(data)

    def write_bytes(self, data: bytes) -> int:
        self.store.write_bytes(self.path, data)
        return len(data)

    def exists(self) -> bool:
        return self.store.exists(self.path)

    def is_dir(self) -> bool:
        try:
            return self.store.info(self.path).is_dir
        except NotFound:
            return False

    def is_file(self) -> bool:
        try:
            return not self.store.info(self.path).is_dir
        except NotFound:
            return False
