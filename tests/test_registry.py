"""Scheme -> backend, entry points, and the public API."""

from __future__ import annotations

import pytest

import storage_hub
from storage_hub import ConfigurationError, open_store, register_backend
from storage_hub.backends.cortx import CortxBackend
from storage_hub.backends.fsspec_url import FsspecBackend
from storage_hub.backends.local import LocalBackend
from storage_hub.backends.s3 import S3Backend
from storage_hub.registry import ENTRY_POINT_GROUP, get_backend_class


def test_builtin_protocols() -> None:
    assert get_backend_class("s3") is S3Backend
    assert get_backend_class("cortx") is CortxBackend
    assert get_backend_class("file") is LocalBackend
    assert get_backend_class("memory") is FsspecBackend


def test_unknown_protocol() -> None:
    with pytest.raises(ConfigurationError, match="unknown store protocol 'nope'"):
        open_store("nope://x")


def test_register_refuses_clobber() -> None:
    register_backend("unit-test-proto", "storage_hub.backends.local:LocalBackend")
    with pytest.raises(ValueError, match="already registered"):
        register_backend("unit-test-proto", "storage_hub.backends.s3:S3Backend")
    register_backend("unit-test-proto", "storage_hub.backends.s3:S3Backend", clobber=True)
    assert get_backend_class("unit-test-proto") is S3Backend


def test_entry_point_group(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    from storage_hub import registry

    ep = EntryPoint(name="viaep", value="storage_hub.backends.local:LocalBackend", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep] if group == ENTRY_POINT_GROUP else [])
    registry._load_entry_points.cache_clear()
    try:
        assert get_backend_class("viaep") is LocalBackend
    finally:
        registry._load_entry_points.cache_clear()
        registry._registry.pop("viaep", None)


def test_public_api() -> None:
    exported = {name for name in dir(storage_hub) if not name.startswith("_")}
    assert set(storage_hub.__all__) <= exported
    for name in storage_hub.__all__:
        assert getattr(storage_hub, name) is not None


def test_errors_are_builtins_too() -> None:
    assert issubclass(storage_hub.NotFound, FileNotFoundError)
    assert issubclass(storage_hub.AlreadyExists, FileExistsError)
    assert issubclass(storage_hub.NotAFolder, NotADirectoryError)
    assert issubclass(storage_hub.IsAFolder, IsADirectoryError)
    assert issubclass(storage_hub.PermissionDenied, PermissionError)
    assert issubclass(storage_hub.InvalidPath, ValueError)
    assert issubclass(storage_hub.BackendUnavailable, ConnectionError)
    assert issubclass(storage_hub.ConfigurationError, ValueError)
    for name in storage_hub.__all__:
        obj = getattr(storage_hub, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, storage_hub.StorageError)
