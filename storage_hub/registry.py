"""Scheme -> backend, and :func:`open_store`.

Backends are registered as lazy ``"package.module:Class"`` strings, so importing storage-hub imports no SDK.
Third-party packages add backends through the entry-point group ``storage_hub.backends`` (name = scheme,
value = ``"package.module:Class"``), or at run time with :func:`register_backend`. A scheme nobody registered is
served by the generic fsspec backend if fsspec knows it.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

import fsspec

from .backend import Backend
from .config import StoreConfig, resolve
from .errors import ConfigurationError
from .store import AsyncStore, Store

__all__ = ["ENTRY_POINT_GROUP", "get_backend_class", "open_store", "register_backend", "registered_protocols"]

ENTRY_POINT_GROUP = "storage_hub.backends"
GENERIC = "storage_hub.backends.fsspec_url:FsspecBackend"

_registry: dict[str, str | type[Backend]] = {
    "file": "storage_hub.backends.local:LocalBackend",
    "local": "storage_hub.backends.local:LocalBackend",
    "s3": "storage_hub.backends.s3:S3Backend",
    "s3a": "storage_hub.backends.s3:S3Backend",
    "cortx": "storage_hub.backends.cortx:CortxBackend",
}


def register_backend(protocol: str, backend: str | type[Backend], *, clobber: bool = False) -> None:
    """Serve ``protocol://`` URLs with ``backend`` (a class or a lazy ``"module:Class"`` string).

    Raises
    ------
    ValueError
        If ``protocol`` is taken and ``clobber`` is false.
    """
    protocol = protocol.lower()
    if protocol in _registry and not clobber and _registry[protocol] != backend:
        raise ValueError(f"protocol {protocol!r} is already registered to {_registry[protocol]!r}")
    _registry[protocol] = backend


@functools.cache
def _load_entry_points() -> None:
    """Add the backends other packages declare (once; explicit registrations win)."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        _registry.setdefault(ep.name.lower(), ep.value)


def registered_protocols() -> list[str]:
    """The schemes with a dedicated backend (others go to the generic fsspec backend)."""
    _load_entry_points()
    return sorted(_registry)


def _import(target: str) -> type[Backend]:
    module, _, name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise ConfigurationError(f"cannot load backend {target!r}: {e}") from e
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise ConfigurationError(f"{target!r} is not a storage_hub Backend")
    return cls


def get_backend_class(protocol: str) -> type[Backend]:
    """The backend class for ``protocol``.

    Raises
    ------
    ConfigurationError
        If no backend and no fsspec implementation knows the protocol.
    """
    _load_entry_points()
    protocol = protocol.lower()
    target = _registry.get(protocol)
    if target is None:
        if protocol not in fsspec.available_protocols():
            raise ConfigurationError(
                f"unknown store protocol {protocol!r}: use one of {registered_protocols()} "
                "or a protocol fsspec knows (memory, gcs, az, sftp, ...)"
            )
        target = GENERIC
    return _import(target) if isinstance(target, str) else target


def open_backend(config: StoreConfig) -> Backend:
    """Build the backend for a resolved configuration."""
    return get_backend_class(config.protocol)(config)


def open_store(target: str | Mapping[str, Any] | StoreConfig | None = None, **options: Any) -> Store:
    """Open a store.

    Parameters
    ----------
    target:
        ``s3://bucket/prefix/``, ``cortx://bucket/prefix/``, ``file:///dir``, a plain path, ``memory://``, any
        fsspec URL, a store name from the stores file, a mapping with ``url``, or ``None`` for
        ``$STORAGE_HUB_STORE``.
    **options:
        Backend options, e.g. ``endpoint_url``, ``region``, ``ca_bundle``, ``key``/``secret`` (see the backend
        docs). They override options from the stores file.

    Returns
    -------
    Store
        Blocking API; ``store.aio`` is the async core.

    Raises
    ------
    ConfigurationError
        If the target or an option is invalid. Nothing is contacted yet: the first operation (or
        ``store.diagnose()``) reaches the server.
    """
    return Store(AsyncStore(open_backend(resolve(target, **options))))
