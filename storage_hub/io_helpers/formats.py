"""Data formats by file extension: what ``write_data`` accepts and what ``read_data(path, as_=...)`` returns.

One table, :data:`DATA_FORMATS`; the docs' format table is generated from it. pandas, pyarrow and numpy are
imported only when a format that needs them is used; a missing one is a :class:`MissingDependency` that says what
to install.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from ..errors import MissingDependency

__all__ = ["DATA_FORMATS", "READ_KINDS", "DataFormat", "extension", "require"]

DATA_EXTRA = "pip install 'storage-hub[data]'"


def require(module: str, install: str, what: str) -> Any:
    """Import ``module`` or raise :class:`MissingDependency` saying what needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingDependency(
            f"{what} needs {module.split('.', maxsplit=1)[0]}, which is not installed: {install}"
        ) from e


def extension(path: str) -> str:
    """The lower-case extension of ``path``, with its dot (``""`` if none)."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _instance_of(module: str, name: str) -> Callable[[Any], bool]:
    # No import to test a value: if the library is not imported yet, the value cannot be one of its objects.
    def check(value: Any) -> bool:
        loaded = sys.modules.get(module)
        return loaded is not None and isinstance(value, getattr(loaded, name))

    return check


is_dataframe = _instance_of("pandas", "DataFrame")
is_array = _instance_of("numpy", "ndarray")


def _is_json(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _is_array_dict(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(is_array(v) for v in value.values())


def _pandas() -> Any:
    return require("pandas", DATA_EXTRA, "this format")


def _numpy() -> Any:
    return require("numpy", DATA_EXTRA, "this format")


def _text(file: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(file, encoding="utf-8", newline="")


def _write_csv(df: Any, file: IO[bytes], options: Mapping[str, Any]) -> None:
    text = _text(file)
    df.to_csv(text, **{"index": False, **options})
    text.flush()
    text.detach()


def _write_json_frame(df: Any, file: IO[bytes], options: Mapping[str, Any]) -> None:
    text = _text(file)
    df.to_json(text, **options)
    text.flush()
    text.detach()


def _write_json(value: Any, file: IO[bytes], options: Mapping[str, Any]) -> None:
    file.write(json.dumps(value, **{"ensure_ascii": False, **options}).encode("utf-8"))


def _write_npy(array: Any, file: IO[bytes], options: Mapping[str, Any]) -> None:
    _numpy().save(file, array, **{"allow_pickle": False, **options})


def _write_npz(value: Any, file: IO[bytes], options: Mapping[str, Any]) -> None:
    arrays = value if isinstance(value, dict) else {"arr_0": value}
    save = _numpy().savez_compressed if options.get("compressed") else _numpy().savez
    save(file, **arrays)


def _read_npz(file: IO[bytes], options: Mapping[str, Any]) -> dict[str, Any]:
    with _numpy().load(file, **{"allow_pickle": False, **options}) as archive:
        return {name: archive[name] for name in archive.files}


@dataclass(frozen=True)
class DataFormat:
    """One file format: the values ``write_data`` turns into it, and the reader ``read_data(as_=kind)`` uses."""

    extensions: tuple[str, ...]
    #: What ``read_data(path, as_=kind)`` returns for this format.
    kind: str
    #: The values ``write_data`` accepts for it, in words (for messages and the docs).
    accepts: str
    matches: Callable[[Any], bool]
    write: Callable[[Any, IO[bytes], Mapping[str, Any]], None]
    read: Callable[[IO[bytes], Mapping[str, Any]], Any]
    #: The library that reads and writes it, e.g. ``pandas.read_parquet``, for the docs.
    library: str


DATA_FORMATS: tuple[DataFormat, ...] = (
    DataFormat(
        (".csv",),
        "dataframe",
        "pandas.DataFrame",
        is_dataframe,
        _write_csv,
        lambda f, o: _pandas().read_csv(f, **o),
        "pandas `to_csv(index=False)` / `read_csv`",
    ),
    DataFormat(
        (".parquet", ".pq"),
        "dataframe",
        "pandas.DataFrame",
        is_dataframe,
        lambda df, f, o: df.to_parquet(f, **o),
        lambda f, o: _pandas().read_parquet(f, **o),
        "pandas + pyarrow `to_parquet` / `read_parquet`",
    ),
    DataFormat(
        (".feather",),
        "dataframe",
        "pandas.DataFrame",
        is_dataframe,
        lambda df, f, o: df.to_feather(f, **o),
        lambda f, o: _pandas().read_feather(f, **o),
        "pandas + pyarrow `to_feather` / `read_feather`",
    ),
    DataFormat(
        (".json",),
        "dataframe",
        "pandas.DataFrame",
        is_dataframe,
        _write_json_frame,
        lambda f, o: _pandas().read_json(f, **o),
        "pandas `to_json` / `read_json`",
    ),
    DataFormat(
        (".json",),
        "json",
        "dict or list",
        _is_json,
        _write_json,
        lambda f, o: json.load(f, **o),
        "`json` (UTF-8, non-ASCII kept)",
    ),
    DataFormat(
        (".npy",),
        "array",
        "numpy.ndarray",
        is_array,
        _write_npy,
        lambda f, o: _numpy().load(f, **{"allow_pickle": False, **o}),
        "numpy `save` / `load` (no pickles)",
    ),
    DataFormat(
        (".npz",),
        "arrays",
        "numpy.ndarray, or a dict of them",
        lambda v: is_array(v) or _is_array_dict(v),
        _write_npz,
        _read_npz,
        "numpy `savez` (`compressed=True`: `savez_compressed`) / `load`, read as a dict of arrays",
    ),
)

#: The kinds ``read_data(path, as_=...)`` takes that need no format: the raw content.
READ_KINDS = ("file", "bytes", "text")
