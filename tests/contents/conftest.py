"""Fixtures for jupyter_server's own contents tests, ported to StorageContentsManager on every backend.

Each test runs once per backend: ``local`` (a local folder), ``s3-seaweedfs``, ``s3-ceph``, ``cortx-seaweedfs``
and ``cortx-ceph`` (the S3 and CORTX backends on the servers ``scripts/test.sh`` starts; see ``tests/conftest.py``).
Every test gets a fresh location (``tmp_path/root_dir`` on disk, ``<bucket>/<fresh prefix>/root/`` on the servers)
and every file a test or fixture prepares is written through a Store opened on that location, never with ``os``.

``STORAGE_HUB_CONTENTS_REFERENCE=1`` adds the backend ``jupyter-local``: jupyter_server's own AsyncLargeFileManager
on a local folder, run through the same ported tests (only those). It checks the port itself: a test that fails
there is a porting mistake, not a bug of ours.

The only tests left out are listed in ``DESELECTED`` below, each with its reason: they inspect local-disk
internals of jupyter_server's FileContentsManager. Everything else runs on every backend, assertions unchanged.

The fixtures ``dirs``, ``contents_dir``, ``contents`` and ``folders`` are ported from jupyter_server 2.21.1
(sdist, ``tests/conftest.py``). Copyright (c) 2001-2015, IPython Development Team; Copyright (c) 2015-, Jupyter
Development Team. BSD 3-Clause License: see LICENSE.jupyter_server in this folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# This must come before any Jupyter imports (as in jupyter_server's own tests/conftest.py).
os.environ["JUPYTER_PLATFORM_DIRS"] = "1"

from nbformat import writes
from nbformat.v4 import new_notebook

# pytest-jupyter's server fixtures (jp_serverapp, jp_fetch, ...) and its hooks that run ``async def`` tests on the
# server's event loop. Imported into this conftest rather than listed in ``pytest_plugins``, so that they apply
# to this folder only (its autouse fixtures and hooks do not touch the rest of the suite).
from pytest_jupyter.jupyter_server import *  # noqa: F403
from traitlets.config import Config

from storage_hub import Store, open_store

from ..conftest import TEST_BUCKET, S3Server, fresh_prefix
from .utils import StorePath

MANAGER_CLASS = "storage_hub.contents.StorageContentsManager"
REFERENCE_CLASS = "jupyter_server.services.contents.largefilemanager.AsyncLargeFileManager"

# Only these are left out: each inspects local-disk internals of jupyter_server's FileContentsManager, which a
# manager whose files live in a Store does not have. "file::test" deselects every parametrization of the test,
# "file::test[params]" one of them (params without the backend, joined with "-").
DESELECTED = {
    "test_manager.py::test_root_dir": "checks the root_dir trait equals a local folder (the root is store_url)",
    "test_manager.py::test_missing_root_dir": "checks root_dir validation: a missing local folder is a TraitError",
    "test_manager.py::test_invalid_root_dir": "checks root_dir validation: a local file is a TraitError",
    "test_manager.py::test_get_os_path": "checks _get_os_path, the api path -> local os path mapping",
    "test_manager.py::test_get_os_path_posix": "checks _get_os_path, the api path -> local os path mapping",
    "test_manager.py::test_checkpoint_subdir": "checks FileCheckpoints.checkpoint_path, a local os path",
    "test_manager.py::test_bad_symlink": "makes a broken symlink with os.symlink",
    "test_manager.py::test_recursive_symlink": "makes a symlink loop with os.symlink",
    "test_manager.py::test_good_symlink": "makes a symlink with os.symlink",
    "test_manager.py::test_403": "checks permission bits: os.chmod 0o400 then cm.open(os_path) (skipped as root)",
    "test_manager.py::test_delete_non_empty_folder[True-False-None]": (
        "the expected outcome is computed from os.stat(root_dir).st_dev vs the home folder's (can send2trash "
        "reach a trash on the same device)"
    ),
    "test_manager.py::test_regression_is_hidden": (
        "patches jupyter_core.paths.is_hidden and filemanager.is_hidden (os-level hidden checks) and expects "
        "them to be called when allow_hidden=False"
    ),
    "test_manager.py::test_created_timestamp": "backdates the file's mtime with os.stat + os.utime on its os path",
    "test_manager.py::test_created_uses_birthtime_on_macos": "compares 'created' with os.lstat().st_birthtime",
    "test_manager.py::test_created_uses_ctime_on_windows": "compares 'created' with os.lstat().st_ctime",
    "test_manager.py::test_created_timestamp_fallback_to_epoch": "patches os.lstat on the file's os path",
    "test_manager.py::test_base_model_invalid_timestamp_fallback": "patches os.lstat on the file's os path",
    "test_manager.py::test_get_created_timestamp_uses_birthtime": (
        "unit test of filemanager._get_created_timestamp(os.stat_result); no contents manager involved"
    ),
    "test_manager.py::test_get_created_timestamp_fallback_no_birthtime": (
        "unit test of filemanager._get_created_timestamp(os.stat_result); no contents manager involved"
    ),
    "test_manager.py::test_get_created_timestamp_accepts_zero_birthtime": (
        "unit test of filemanager._get_created_timestamp(os.stat_result); no contents manager involved"
    ),
    "test_manager.py::test_get_created_timestamp_fallback_negative_birthtime": (
        "unit test of filemanager._get_created_timestamp(os.stat_result); no contents manager involved"
    ),
    "test_manager.py::test_get_created_timestamp_fallback_infinite_birthtime": (
        "unit test of filemanager._get_created_timestamp(os.stat_result); no contents manager involved"
    ),
    "test_manager.py::test_get_created_timestamp_fallback_nan_birthtime": (
        "unit test of filemanager._get_created_timestamp(os.stat_result); no contents manager involved"
    ),
    "test_manager.py::test_get_created_timestamp_fallback_none_birthtime": (
        "unit test of filemanager._get_created_timestamp(os.stat_result); no contents manager involved"
    ),
    "test_manager.py::test_get_created_timestamp_fallback_string_birthtime": (
        "unit test of filemanager._get_created_timestamp(os.stat_result); no contents manager involved"
    ),
    "test_api.py::test_regression_is_hidden": (
        "patches jupyter_core.paths.is_hidden and filemanager.is_hidden (os-level hidden checks) and expects "
        "a 500 from them when allow_hidden=False"
    ),
}

HERE = Path(__file__).parent
PORTED = {"test_manager.py", "test_api.py", "test_largefilemanager.py", "test_checkpoints.py"}


def _deselection_key(item: pytest.Item) -> tuple[str, str]:
    name = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
    callspec = getattr(item, "callspec", None)
    params = [str(v) for k, v in (callspec.params.items() if callspec else ()) if k != "backend"]
    return name, f"{name}[{'-'.join(params)}]" if params else name


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        if HERE not in item.path.parents:
            keep.append(item)
            continue
        name, full = _deselection_key(item)
        callspec = getattr(item, "callspec", None)
        reference = callspec is not None and callspec.params.get("backend") == "jupyter-local"
        if name in DESELECTED or full in DESELECTED or (reference and item.path.name not in PORTED):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# -- backends -----------------------------------------------------------------------------------------------------
BACKENDS = ["local", "s3-seaweedfs", "s3-ceph", "cortx-seaweedfs", "cortx-ceph"]
if os.environ.get("STORAGE_HUB_CONTENTS_REFERENCE") == "1":
    BACKENDS.append("jupyter-local")


@dataclass
class Backend:
    """One location on one backend: where the manager under test keeps its files."""

    name: str
    url: str  # the manager's store_url
    options: dict[str, Any]  # the manager's store_options
    parent_url: str  # the folder that holds ``url`` (for the tests that put files next to the root)
    local_root: Path | None = None  # the folder itself, for the local backends
    stores: list[Store] = field(default_factory=list)

    @property
    def reference(self) -> bool:
        return self.name == "jupyter-local"

    @property
    def manager_class(self) -> str:
        return REFERENCE_CLASS if self.reference else MANAGER_CLASS

    def manager(self, **traits: Any) -> Any:
        """A new contents manager under test on this location."""
        if self.reference:
            from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

            return AsyncLargeFileManager(root_dir=str(self.local_root), **traits)
        from storage_hub.contents import StorageContentsManager

        return StorageContentsManager(store_url=self.url, store_options=dict(self.options), **traits)

    def server_config(self) -> dict[str, Any]:
        """The traitlets config that makes a Jupyter server use the manager under test on this location."""
        if self.reference:
            return {}  # it takes the server's root_dir, which is local_root (jp_root_dir)
        return {"StorageContentsManager": {"store_url": self.url, "store_options": dict(self.options)}}

    def open(self, url: str | None = None) -> Store:
        """A Store on this location (or on ``url`` with the same options), closed after the test."""
        store = open_store(url or self.url, **self.options)
        self.stores.append(store)
        return store


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    name: str = request.param
    if name in ("local", "jupyter-local"):
        root = tmp_path / "root_dir"  # the same folder as pytest-jupyter's jp_root_dir, the server's root_dir
        root.mkdir(exist_ok=True)
        b = Backend(name, str(root), {}, str(tmp_path), local_root=root)
        yield b
        for store in b.stores:
            store.close()
        return
    protocol, server_name = name.split("-")
    server: S3Server = request.getfixturevalue(server_name)
    prefix = fresh_prefix()
    b = Backend(
        name,
        f"{protocol}://{TEST_BUCKET}/{prefix}/root/",
        server.options(),
        f"{protocol}://{TEST_BUCKET}/{prefix}/",
    )
    yield b
    try:
        b.open(f"{protocol}://{TEST_BUCKET}/").delete(prefix, recursive=True, missing_ok=True)
    finally:
        for store in b.stores:
            store.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    """A Store on the manager's location: what the tests' fixtures write through."""
    return backend.open()


@pytest.fixture
def jp_server_config(backend: Backend) -> Config:
    """pytest-jupyter's server configuration, with the contents manager under test on this test's location."""
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"jupyter_server_terminals": True},
                "contents_manager_class": backend.manager_class,
            },
            **backend.server_config(),
        }
    )


# -- ported from jupyter_server's tests/conftest.py ---------------------------------------------------------------
@pytest.fixture
def contents_dir(store: Store, jp_serverapp: Any) -> StorePath:
    # ported: the server's contents folder is the store, not tmp_path / jp_serverapp.root_dir
    return StorePath(store)


dirs = [
    ("", "inroot"),
    ("Directory with spaces in", "inspace"),
    ("unicodé", "innonascii"),
    ("foo", "a"),
    ("foo", "b"),
    ("foo", "name with spaces"),
    ("foo", "unicodé"),
    ("foo/bar", "baz"),
    ("ordering", "A"),
    ("ordering", "b"),
    ("ordering", "C"),
    ("å b", "ç d"),
]


@pytest.fixture
def contents(contents_dir: StorePath) -> dict[str, Any]:
    # Create files in temporary directory
    paths: dict[str, Any] = {"notebooks": [], "textfiles": [], "blobs": [], "contents_dir": contents_dir}
    for d, name in dirs:
        p = contents_dir / d
        p.mkdir(parents=True, exist_ok=True)

        # Create a notebook
        nb = writes(new_notebook(), version=4)
        nbname = p.joinpath(f"{name}.ipynb")
        nbname.write_text(nb, encoding="utf-8")
        paths["notebooks"].append(nbname.relative_to(contents_dir))

        # Create a text file
        txt = f"{name} text file"
        txtname = p.joinpath(f"{name}.txt")
        txtname.write_text(txt, encoding="utf-8")
        paths["textfiles"].append(txtname.relative_to(contents_dir))

        # Create a random blob
        blob = name.encode("utf-8") + b"\xff"
        blobname = p.joinpath(f"{name}.blob")
        blobname.write_bytes(blob)
        paths["blobs"].append(blobname.relative_to(contents_dir))
    paths["all"] = list(paths.values())
    return paths


@pytest.fixture
def folders() -> list[str]:
    return list({item[0] for item in dirs})
