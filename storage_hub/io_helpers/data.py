"""``read_data`` / ``write_data`` / ``read_model`` / ``write_model``: methods of the store users get, and functions
on the default store (the Jupyter server's, in a kernel it started).

The store core knows nothing of data formats: :class:`DataStore` composes them on top of :class:`Store`, and
``storage_hub.open_store`` returns one.
"""

from __future__ import annotations

import io
import threading
from typing import IO, Any, Literal, cast

from ..backend import Entry
from ..config import StoreConfig, default_key, resolve
from ..errors import InvalidPath, UnsupportedFormat, UntrustedModel
from ..registry import open_store as open_core_store
from ..store import Store
from .formats import DATA_FORMATS, READ_KINDS, DataFormat, extension
from .ml_models import MODEL_FORMATS, UNTRUSTED_ADVICE, ModelFormat, Trust

__all__ = ["DataStore", "default_store", "open_store", "read_data", "read_model", "write_data", "write_model"]

#: Bytes moved per call when a file object is copied into the store.
COPY_CHUNK = 8 * 2**20

ReadAs = Literal["file", "bytes", "text", "json", "dataframe", "array", "arrays"]


class DataStore(Store):
    """A :class:`Store` that also reads and writes data and models by file extension."""

    def _where(self, path: str) -> str:
        try:
            return self.url(path)
        except InvalidPath:
            return f"{self.config.url}{path}"

    # -- data -------------------------------------------------------------------------------------------------
    def read_data(self, path: str, as_: ReadAs = "file", *, stream: bool = False, **options: Any) -> Any:
        """Read ``path``.

        ``as_="file"`` (the default) gives a seekable binary file object, which pandas, numpy, PIL, torch and json
        accept: the whole object in memory after one request, or with ``stream=True`` read in ranged requests as
        it is consumed, for objects larger than memory. ``"bytes"`` and ``"text"`` give the content;
        ``"dataframe"``, ``"json"``, ``"array"`` and ``"arrays"`` parse it by the path's extension (see
        :data:`~storage_hub.io_helpers.formats.DATA_FORMATS`), passing ``options`` to the reader.
        """
        if as_ in READ_KINDS:
            encoding = options.pop("encoding", "utf-8") if as_ == "text" else None
            if options:
                raise TypeError(f"read_data(as_={as_!r}) takes no options, got {sorted(options)}")
            if as_ == "bytes":
                return self.read_bytes(path)
            if as_ == "text":
                return self.read_bytes(path).decode(encoding or "utf-8")
            return self.open(path, "rb") if stream else io.BytesIO(self.read_bytes(path))
        fmt = self._read_format(path, as_)
        with self.open(path, "rb") if stream else io.BytesIO(self.read_bytes(path)) as file:
            return fmt.read(file, options)

    def write_data(self, path: str, data: Any, **options: Any) -> Entry:
        """Write ``data`` to ``path`` atomically: the previous object stays readable until the new one is whole.

        bytes and str (UTF-8, or ``encoding=``) go to any path; a binary file object is streamed with bounded
        memory; a pandas DataFrame, a numpy array, a dict or a list are written in the format of the path's
        extension, ``options`` going to the writer. Anything else is an :class:`UnsupportedFormat` listing what is
        supported.
        """
        if isinstance(data, (bytes, bytearray, memoryview)) and not options:
            return self.write_bytes(path, bytes(data))
        if isinstance(data, str):
            encoding = options.pop("encoding", "utf-8")
            if not options:
                return self.write_bytes(path, data.encode(encoding))
        if hasattr(data, "read") and not options:
            return self._copy_in(path, data)
        fmt = self._write_format(path, data, options)
        with self.open(path, "wb") as file:
            fmt.write(data, cast(IO[bytes], file), options)
        return self.info(path)

    def _copy_in(self, path: str, source: IO[Any]) -> Entry:
        with self.open(path, "wb") as file:
            while chunk := source.read(COPY_CHUNK):
                if isinstance(chunk, str):
                    raise UnsupportedFormat(
                        f"{self._where(path)}: write_data needs a binary file object (open(..., 'rb')), got a text one",
                        path,
                    )
                file.write(chunk)
        return self.info(path)

    def _read_format(self, path: str, kind: str) -> DataFormat:
        ext = extension(path)
        for fmt in DATA_FORMATS:
            if fmt.kind == kind and ext in fmt.extensions:
                return fmt
        kinds = sorted({f.kind for f in DATA_FORMATS})
        if kind not in kinds:
            raise UnsupportedFormat(
                f"read_data: as_ must be one of {', '.join(map(repr, (*READ_KINDS, *kinds)))}, not {kind!r}", path
            )
        readable = ", ".join(f"{'/'.join(f.extensions)}" for f in DATA_FORMATS if f.kind == kind)
        raise UnsupportedFormat(
            f"{self._where(path)}: read_data(as_={kind!r}) reads {readable}, not {ext or 'a name without extension'}",
            path,
        )

    def _write_format(self, path: str, data: Any, options: dict[str, Any]) -> DataFormat:
        ext = extension(path)
        for fmt in DATA_FORMATS:
            if ext in fmt.extensions and fmt.matches(data):
                return fmt
        supported = "; ".join(f"{fmt.accepts} as {'/'.join(fmt.extensions)}" for fmt in DATA_FORMATS)
        given = f"{type(data).__module__}.{type(data).__qualname__}".removeprefix("builtins.")
        raw = " (with no options)" if options and isinstance(data, (bytes, bytearray, memoryview, str)) else ""
        raise UnsupportedFormat(
            f"{self._where(path)}: write_data cannot write a {given} as {ext or 'a name without extension'}. "
            f"It writes bytes, str and binary file objects to any path{raw}, and {supported}",
            path,
        )

    # -- models -----------------------------------------------------------------------------------------------
    def write_model(self, path: str, model: Any, **options: Any) -> Entry:
        """Save ``model`` to ``path`` in the format of its extension (``.skops``, ``.pt``, ``.keras``,
        ``.joblib``, ``.pkl``), atomically; ``options`` go to the library's save function."""
        fmt = self._model_format(path)
        with self.open(path, "wb") as file:
            fmt.dump(model, cast(IO[bytes], file), options)
        return self.info(path)

    def read_model(self, path: str, *, trusted: Trust = False, **options: Any) -> Any:
        """Load the model at ``path``. Pickle-based formats (``.joblib``, ``.pkl``) are refused unless
        ``trusted=True``: loading a pickle runs the code in it. ``.skops`` files load the types skops trusts, plus
        those named in ``trusted`` (a list of type names, or ``True`` for any). ``.pt`` gives the saved state dict
        (load it with ``module.load_state_dict``)."""
        fmt = self._model_format(path)
        if fmt.needs_trust and trusted is not True:
            raise UntrustedModel(f"{self._where(path)}: not loaded: {UNTRUSTED_ADVICE}", path)
        with io.BytesIO(self.read_bytes(path)) as file:
            try:
                return fmt.load(file, trusted, options)
            except UntrustedModel as e:
                raise UntrustedModel(f"{self._where(path)}: not loaded: {e}", path) from e

    def _model_format(self, path: str) -> ModelFormat:
        ext = extension(path)
        for fmt in MODEL_FORMATS:
            if ext in fmt.extensions:
                return fmt
        known = ", ".join("/".join(fmt.extensions) for fmt in MODEL_FORMATS)
        raise UnsupportedFormat(
            f"{self._where(path)}: models are saved as {known}; {ext or 'a name without extension'} is none of them",
            path,
        )


def open_store(target: str | StoreConfig | dict[str, Any] | None = None, **options: Any) -> DataStore:
    """Open a store: a URL (``s3://bucket/prefix/``, ``cortx://...``, a path, any fsspec URL), a store name from
    the stores file, a mapping with ``url``, or nothing for the default store (see :func:`default_store`)."""
    return DataStore(open_core_store(target, **options).aio)


_default_lock = threading.Lock()
#: The default store, and the settings it was opened with (see :func:`~storage_hub.config.default_key`).
_default: dict[tuple[str | None, ...], DataStore] = {}


def default_store() -> DataStore:
    """The store the module-level functions use: the Jupyter server's, in a kernel it started (it hands its store
    to kernels in ``STORAGE_HUB_KERNEL_STORE``, without secrets); else ``STORAGE_HUB_STORE``; else the store named
    ``default`` in the stores file. Opened once, and again when those settings change."""
    key = default_key()
    with _default_lock:
        if key not in _default:
            _default.clear()
            _default[key] = DataStore(open_core_store(resolve()).aio)
        return _default[key]


def read_data(path: str, as_: ReadAs = "file", *, stream: bool = False, **options: Any) -> Any:
    """:meth:`DataStore.read_data` on the :func:`default_store`."""
    return default_store().read_data(path, as_, stream=stream, **options)


def write_data(path: str, data: Any, **options: Any) -> Entry:
    """:meth:`DataStore.write_data` on the :func:`default_store`."""
    return default_store().write_data(path, data, **options)


def read_model(path: str, *, trusted: Trust = False, **options: Any) -> Any:
    """:meth:`DataStore.read_model` on the :func:`default_store`."""
    return default_store().read_model(path, trusted=trusted, **options)


def write_model(path: str, model: Any, **options: Any) -> Entry:
    """:meth:`DataStore.write_model` on the :func:`default_store`."""
    return default_store().write_model(path, model, **options)
