"""The one function that maps user paths to keys, and refuses escapes."""

from __future__ import annotations

import pytest

from storage_hub import InvalidPath
from storage_hub.paths import is_within, join, normalize, parent, relative, to_key


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", ""),
        ("a", "a"),
        ("a/b/", "a/b"),
        ("./a/./b", "a/b"),
        ("with space/é 😀 +&;$@%", "with space/é 😀 +&;$@%"),
        ("  padded  ", "  padded  "),
        ("a..b/c..", "a..b/c.."),
        (".hidden/.x", ".hidden/.x"),
    ],
)
def test_normalize_keeps_names_exactly(given: str, expected: str) -> None:
    assert normalize(given) == expected


def test_no_unicode_normalisation() -> None:
    composed, decomposed = "\u00e9", "e\u0301"
    assert normalize(composed) != normalize(decomposed)


@pytest.mark.parametrize(
    "bad", ["..", "../a", "a/../..", "a/..", "/abs", "//x", "a//b", "a\x00", "a\nb", "a\x7fb", "a\\b", "C:/x"]
)
def test_normalize_refuses_escapes(bad: str) -> None:
    with pytest.raises(InvalidPath):
        normalize(bad)


def test_non_string_refused() -> None:
    with pytest.raises(InvalidPath):
        normalize(b"a")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("root", "path", "key"),
    [("bucket/prefix", "a/b", "bucket/prefix/a/b"), ("bucket", "", "bucket"), ("/", "a", "/a"), ("", "a", "a")],
)
def test_key_round_trip(root: str, path: str, key: str) -> None:
    assert to_key(root, path) == key
    assert relative(root, key) == path


def test_relative_refuses_foreign_keys() -> None:
    with pytest.raises(InvalidPath):
        relative("bucket/prefix", "bucket/prefixother/a")
    with pytest.raises(InvalidPath):
        relative("bucket/prefix", "other/a")


def test_helpers() -> None:
    assert join("a", "", "b/") == "a/b"
    assert parent("a/b/c") == "a/b" and parent("a") == ""
    assert is_within("a/b", "a") and is_within("a", "a") and is_within("x", "")
    assert not is_within("ab", "a")
