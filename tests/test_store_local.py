"""The shared store suite on local disk and on fsspec's in-memory filesystem."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage_hub import Store, open_store

from .store_suite import StoreSuite


class TestLocal(StoreSuite):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        with open_store(str(tmp_path / "root")) as store:
            (tmp_path / "root").mkdir()
            yield store

    def test_no_temporary_files_left(self, store: Store, tmp_path: Path) -> None:
        store.write_bytes("a.txt", b"x")
        with store.open("b.txt", "wb") as f:
            f.write(b"y")
        assert sorted(p.name for p in (tmp_path / "root").iterdir()) == ["a.txt", "b.txt"]

    def test_rename_is_atomic_native(self, store: Store, tmp_path: Path) -> None:
        store.write_bytes("f/a.txt", b"x")
        inode = (tmp_path / "root" / "f" / "a.txt").stat().st_ino
        store.move("f", "g")
        assert (tmp_path / "root" / "g" / "a.txt").stat().st_ino == inode


class TestMemory(StoreSuite):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        with open_store(f"memory://t-{uuid.uuid4().hex}") as store:
            yield store
