"""Store configuration: parse a URL, a mapping, a named store or the environment into one :class:`StoreConfig`.

Where a store comes from, in the order :func:`resolve` tries them:

1. an explicit target: a URL (``s3://bucket/prefix/``, ``cortx://...``, ``file:///dir``, ``memory://``, any fsspec
   protocol), a plain local path, a mapping with a ``url`` key, or a :class:`StoreConfig`;
2. a name defined in the stores file (``$STORAGE_HUB_STORES_FILE``, else
   ``$XDG_CONFIG_HOME/storage-hub/stores.toml``), a table per store::

       [stores.team]
       url = "cortx://team-bucket/notebooks/"
       endpoint_url = "https://10.0.0.5:443"
       ca_bundle = "/etc/ssl/cortx-ca.crt"

3. with no target, the default store (:func:`resolve` with ``None``), the first of: the store of the Jupyter server
   that started this kernel (``STORAGE_HUB_KERNEL_STORE`` and ``STORAGE_HUB_KERNEL_STORE_OPTIONS``, which
   storage-hub's contents manager sets for its kernels, without secrets); ``STORAGE_HUB_STORE`` (a URL or a name)
   with ``STORAGE_HUB_STORE_OPTIONS`` (a JSON object); the store named ``default`` in the stores file.

Credentials are never required here: backends take them from their SDK's standard chain. Any option that looks
like a secret is redacted in every ``repr`` and message.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "DEFAULT_STORE_NAME",
    "ENV_KERNEL_STORE",
    "ENV_KERNEL_STORE_OPTIONS",
    "ENV_STORE",
    "ENV_STORES_FILE",
    "ENV_STORE_OPTIONS",
    "StoreConfig",
    "default_key",
    "env_options",
    "load_named_stores",
    "redact",
    "resolve",
    "stores_file",
    "without_secrets",
]

ENV_STORE = "STORAGE_HUB_STORE"
ENV_STORE_OPTIONS = "STORAGE_HUB_STORE_OPTIONS"
ENV_STORES_FILE = "STORAGE_HUB_STORES_FILE"
ENV_KERNEL_STORE = "STORAGE_HUB_KERNEL_STORE"
ENV_KERNEL_STORE_OPTIONS = "STORAGE_HUB_KERNEL_STORE_OPTIONS"
#: The store of the stores file that is the default when nothing else names one.
DEFAULT_STORE_NAME = "default"

_SECRET_WORDS = ("secret", "token", "password", "passwd", "credential", "account_key", "sas")
_KEY_ID_NAMES = ("key", "access_key", "aws_access_key_id", "access_key_id")


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def without_secrets(options: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``options`` without the secrets and access key ids (for handing a store on to another process,
    which takes its credentials from its own chain)."""
    kept: dict[str, Any] = {}
    for name, value in options.items():
        if _is_secret(name) or name.lower() in _KEY_ID_NAMES:
            continue
        kept[name] = without_secrets(value) if isinstance(value, Mapping) else value
    return kept


def redact(options: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``options`` safe to print: secrets replaced by ``'***'``, access key ids shortened."""
    safe: dict[str, Any] = {}
    for name, value in options.items():
        if isinstance(value, Mapping):
            safe[name] = redact(value)
        elif _is_secret(name) and value is not None:
            safe[name] = "***"
        elif name.lower() in _KEY_ID_NAMES and isinstance(value, str):
            safe[name] = value[:4] + "***" if len(value) > 4 else "***"
        else:
            safe[name] = value
    return safe


@dataclass(frozen=True)
class StoreConfig:
    """Where a store is and how to reach it.

    Attributes
    ----------
    protocol:
        The scheme: ``s3``, ``cortx``, ``file``, ``memory`` or any fsspec protocol.
    location:
        Everything after ``protocol://`` without a trailing slash: ``bucket/prefix`` for object stores, an
        absolute path for ``file``.
    options:
        Backend options (``endpoint_url``, ``region``, ``ca_bundle``...). Validated by the backend.
    name:
        The name of the store in the stores file, if it came from there.
    """

    protocol: str
    location: str
    options: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None

    @property
    def url(self) -> str:
        """The store's URL, with a trailing slash (never contains a secret)."""
        if self.protocol == "file":
            return Path(self.location).as_uri().rstrip("/") + "/"
        return f"{self.protocol}://{self.location}/" if self.location else f"{self.protocol}://"

    def describe(self) -> str:
        """One line naming the store for messages: URL, and endpoint where there is one."""
        endpoint = self.options.get("endpoint_url")
        return f"{self.url} at {endpoint}" if endpoint else self.url

    def with_options(self, **options: Any) -> StoreConfig:
        """A copy with ``options`` merged over the current ones (``None`` values are ignored)."""
        merged = {**self.options, **{k: v for k, v in options.items() if v is not None}}
        return StoreConfig(self.protocol, self.location, merged, self.name)

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name else ""
        return f"StoreConfig(url={self.url!r}, options={redact(self.options)!r}{name})"

    __str__ = __repr__


def _from_url(url: str, options: Mapping[str, Any]) -> StoreConfig:
    scheme, _, rest = url.partition("://")
    protocol = scheme.lower()
    if not protocol.replace("+", "").replace("-", "").isalnum():
        raise ConfigurationError(f"store URL {url!r} has no valid scheme")
    if protocol == "file":
        return _from_local_path(rest or "/", options)
    netloc = urlsplit(url).netloc
    if "@" in netloc and ":" in netloc.split("@")[0]:
        raise ConfigurationError(
            "credentials in a store URL are refused (they end up in logs and config files): "
            "use the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), a profile, or the key/secret options"
        )
    location = rest.split("?", 1)[0].split("#", 1)[0].strip("/")
    return StoreConfig(protocol, location, dict(options))


def _from_local_path(path: str, options: Mapping[str, Any]) -> StoreConfig:
    if "\x00" in path:
        raise ConfigurationError("local store path contains NUL")
    resolved = os.path.abspath(os.path.expanduser(path))
    return StoreConfig("file", resolved.rstrip("/") or "/", dict(options))


def stores_file() -> Path:
    """The path of the named-stores file (it need not exist)."""
    explicit = os.environ.get(ENV_STORES_FILE)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "storage-hub" / "stores.toml"


def load_named_stores(path: Path | None = None) -> dict[str, StoreConfig]:
    """Read the stores file: ``{name: StoreConfig}``; an absent file is an empty mapping.

    Raises
    ------
    ConfigurationError
        If the file is not valid TOML or a store has no ``url``.
    """
    path = path or stores_file()
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigurationError(f"cannot read stores file {path}: {e}") from e
    stores = data.get("stores", {})
    if not isinstance(stores, dict):
        raise ConfigurationError(f"stores file {path}: [stores] must be a table of tables")
    result: dict[str, StoreConfig] = {}
    for name, table in stores.items():
        if not isinstance(table, dict) or not isinstance(table.get("url"), str):
            raise ConfigurationError(f"stores file {path}: store {name!r} needs a 'url' string")
        options = {k: v for k, v in table.items() if k != "url"}
        cfg = _parse_target(table["url"], options)
        result[name] = StoreConfig(cfg.protocol, cfg.location, cfg.options, name)
    return result


def _parse_target(target: str, options: Mapping[str, Any]) -> StoreConfig:
    if "://" in target:
        return _from_url(target, options)
    return _from_local_path(target, options)


def resolve(target: str | Mapping[str, Any] | StoreConfig | None = None, **options: Any) -> StoreConfig:
    """Turn whatever the user gave into a :class:`StoreConfig`.

    Parameters
    ----------
    target:
        A URL, a local path, a store name from the stores file, a mapping with a ``url`` key, a
        :class:`StoreConfig`, or ``None`` for the default store (see the module's documentation).
    **options:
        Backend options; they override those from the stores file or mapping. ``None`` values are ignored.

    Raises
    ------
    ConfigurationError
        If nothing names a store, or the target is malformed.
    """
    given = {k: v for k, v in options.items() if v is not None}
    if isinstance(target, StoreConfig):
        return target.with_options(**given)
    if isinstance(target, Mapping):
        if not isinstance(target.get("url"), str):
            raise ConfigurationError("a store mapping needs a 'url' string")
        rest = {k: v for k, v in target.items() if k != "url"}
        return _parse_target(target["url"], {**rest, **given})
    if target is None:
        for store_var, options_var in ((ENV_KERNEL_STORE, ENV_KERNEL_STORE_OPTIONS), (ENV_STORE, ENV_STORE_OPTIONS)):
            if os.environ.get(store_var):
                target = os.environ[store_var]
                given = {**env_options(options_var), **given}
                break
        else:
            named = load_named_stores()
            if DEFAULT_STORE_NAME not in named:
                raise ConfigurationError(
                    f"no store given: pass a URL such as 's3://bucket/prefix/', set {ENV_STORE}, "
                    f"or define [stores.{DEFAULT_STORE_NAME}] in {stores_file()}"
                )
            return named[DEFAULT_STORE_NAME].with_options(**given)
    if not isinstance(target, str) or not target:
        raise ConfigurationError(f"store target must be a URL, a path or a store name, not {target!r}")
    if "://" not in target and "/" not in target:
        named = load_named_stores()
        if target in named:
            return named[target].with_options(**given)
    return _parse_target(target, given)


def env_options(name: str = ENV_STORE_OPTIONS) -> dict[str, Any]:
    """The options in the environment variable ``name`` (a JSON object), or none."""
    raw = os.environ.get(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ConfigurationError(f"{name} is not valid JSON: {e.msg}") from e
    if not isinstance(value, dict):
        raise ConfigurationError(f"{name} must be a JSON object")
    return value


def default_key() -> tuple[str | None, ...]:
    """What the default store depends on: when it changes, the default store is another one."""
    names = (ENV_KERNEL_STORE, ENV_KERNEL_STORE_OPTIONS, ENV_STORE, ENV_STORE_OPTIONS, ENV_STORES_FILE)
    return (*(os.environ.get(name) for name in names), str(stores_file()))
