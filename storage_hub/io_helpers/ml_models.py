"""Model formats by file extension, for ``write_model`` / ``read_model``.

A model file is code as much as data when it is a pickle (joblib, pickle, a whole PyTorch module): loading it
runs whatever whoever could write to the bucket put there. Those formats load only with ``trusted=True``; skops
(``.skops``), PyTorch state dicts (``.pt`` loaded with ``weights_only``) and Keras (``.keras`` in safe mode) load
without it. The libraries are imported only when their format is used.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from ..errors import UntrustedModel
from .formats import require

__all__ = ["MODEL_FORMATS", "UNTRUSTED_ADVICE", "ModelFormat", "Trust", "temporary_file"]

#: ``True`` (trust the file whatever it holds), ``False``, or for skops the type names to trust beyond its defaults.
Trust = bool | Sequence[str]

UNTRUSTED_ADVICE = (
    "it is a pickle, and loading a pickle runs any code that was put in it: anyone who can write to this bucket "
    "could run code in your kernel. Pass trusted=True only if you trust everyone with write access to it, or "
    "save the model as .skops (scikit-learn), a .pt state dict (PyTorch) or .keras instead"
)


@contextmanager
def temporary_file(suffix: str) -> Any:
    """A temporary file path for libraries that only save to and load from a named file (Keras)."""
    folder = tempfile.mkdtemp(prefix="storage-hub-")
    path = os.path.join(folder, f"model{suffix}")
    try:
        yield path
    finally:
        if os.path.exists(path):
            os.remove(path)
        os.rmdir(folder)


def _skops() -> Any:
    return require("skops.io", "pip install 'storage-hub[ml]'", ".skops models")


def _dump_skops(model: Any, file: IO[bytes], options: Mapping[str, Any]) -> None:
    file.write(_skops().dumps(model, **options))


def _load_skops(file: IO[bytes], trusted: Trust, options: Mapping[str, Any]) -> Any:
    sio = _skops()
    data = file.read()
    unknown = sio.get_untrusted_types(data=data)
    refused = [] if trusted is True else [name for name in unknown if name not in (trusted or ())]
    if refused:
        raise UntrustedModel(
            f"it contains types skops does not trust by default: {', '.join(refused)}; check that you expect "
            f"them, then pass trusted={refused!r}"
        )
    return sio.loads(data, trusted=unknown, **options)


def _joblib() -> Any:
    return require("joblib", "pip install joblib", ".joblib models")


def _torch() -> Any:
    return require("torch", "pip install 'storage-hub[torch]'", ".pt models")


def _dump_torch(model: Any, file: IO[bytes], options: Mapping[str, Any]) -> None:
    torch = _torch()
    state = model.state_dict() if isinstance(model, torch.nn.Module) else model
    torch.save(state, file, **options)


def _load_torch(file: IO[bytes], trusted: Trust, options: Mapping[str, Any]) -> Any:
    torch = _torch()
    try:
        return torch.load(file, **{"map_location": "cpu", "weights_only": trusted is not True, **options})
    except pickle.UnpicklingError as e:
        raise UntrustedModel(
            "it holds more than tensors and plain containers (a whole pickled module or custom classes), and "
            + UNTRUSTED_ADVICE
        ) from e


def _keras() -> Any:
    return require("keras", "pip install keras (and a backend: torch, jax or tensorflow)", ".keras models")


def _dump_keras(model: Any, file: IO[bytes], options: Mapping[str, Any]) -> None:
    with temporary_file(".keras") as path:
        _keras().saving.save_model(model, path, **options)
        with open(path, "rb") as saved:
            while chunk := saved.read(8 * 2**20):
                file.write(chunk)


def _load_keras(file: IO[bytes], trusted: Trust, options: Mapping[str, Any]) -> Any:
    with temporary_file(".keras") as path:
        with open(path, "wb") as local:
            while chunk := file.read(8 * 2**20):
                local.write(chunk)
        return _keras().saving.load_model(path, **{"safe_mode": trusted is not True, **options})


def _refuse_untrusted(load: Callable[[IO[bytes], Mapping[str, Any]], Any]) -> Any:
    def checked(file: IO[bytes], trusted: Trust, options: Mapping[str, Any]) -> Any:
        if trusted is not True:
            raise UntrustedModel(UNTRUSTED_ADVICE)
        return load(file, options)

    return checked


@dataclass(frozen=True)
class ModelFormat:
    extensions: tuple[str, ...]
    #: The library, as the docs name it.
    library: str
    #: Whether loading it may run code from the file, so ``trusted=True`` is required.
    needs_trust: bool
    dump: Callable[[Any, IO[bytes], Mapping[str, Any]], None]
    load: Callable[[IO[bytes], Trust, Mapping[str, Any]], Any]


MODEL_FORMATS: tuple[ModelFormat, ...] = (
    ModelFormat((".skops",), "skops (scikit-learn and compatible)", False, _dump_skops, _load_skops),
    ModelFormat(
        (".pt", ".pth"),
        "PyTorch: a module's `state_dict()` (or any tensors); loaded with `weights_only=True`",
        False,
        _dump_torch,
        _load_torch,
    ),
    ModelFormat((".keras",), "Keras 3 (`safe_mode=True` when loading)", False, _dump_keras, _load_keras),
    ModelFormat(
        (".joblib",),
        "joblib (scikit-learn's pickle)",
        True,
        lambda m, f, o: _joblib().dump(m, f, **o),
        _refuse_untrusted(lambda f, o: _joblib().load(f, **o)),
    ),
    ModelFormat(
        (".pkl", ".pickle"),
        "pickle",
        True,
        lambda m, f, o: pickle.dump(m, f, **{"protocol": pickle.HIGHEST_PROTOCOL, **o}),
        _refuse_untrusted(lambda f, o: pickle.load(f, **o)),
    ),
)
