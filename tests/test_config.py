"""Parsing targets into StoreConfig, named stores, the environment, and redaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage_hub import ConfigurationError, StoreConfig, open_store
from storage_hub.config import redact, resolve, without_secrets


def test_urls_and_paths(tmp_path: Path) -> None:
    assert resolve("s3://bucket/pre/fix/") == StoreConfig("s3", "bucket/pre/fix")
    assert resolve("CORTX://b/p", endpoint_url="https://e").options == {"endpoint_url": "https://e"}
    assert resolve(f"file://{tmp_path}").location == str(tmp_path)
    assert resolve(str(tmp_path / "x")).protocol == "file"
    assert resolve("memory://").url == "memory://"
    assert resolve("s3://b/p").url == "s3://b/p/"


def test_mapping_and_none_values() -> None:
    cfg = resolve({"url": "s3://b/p", "region": "US"}, endpoint_url=None, profile="team")
    assert cfg.options == {"region": "US", "profile": "team"}
    with pytest.raises(ConfigurationError):
        resolve({"region": "US"})


def test_secrets_are_redacted_everywhere() -> None:
    cfg = resolve("s3://b/p", key="AKIAEXAMPLEKEY", secret="very-secret", token="tok-123")
    text = repr(cfg) + str(cfg) + cfg.describe() + cfg.url
    assert "very-secret" not in text and "tok-123" not in text and "AKIAEXAMPLEKEY" not in text
    assert redact({"client_kwargs": {"aws_secret_access_key": "x"}}) == {
        "client_kwargs": {"aws_secret_access_key": "***"}
    }
    store = open_store("s3://b/p", endpoint_url="http://127.0.0.1:1", key="AKIAEXAMPLEKEY", secret="very-secret")
    assert "very-secret" not in repr(store) + repr(store.aio.backend) + repr(store.aio.backend.options)


def test_credentials_in_url_refused() -> None:
    with pytest.raises(ConfigurationError, match="credentials in a store URL"):
        resolve("s3://AKIA:secret@bucket/")


def test_named_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stores = tmp_path / "stores.toml"
    stores.write_text(
        '[stores.team]\nurl = "cortx://team-bucket/nb/"\nendpoint_url = "https://10.0.0.5:443"\nregion = "US"\n'
    )
    monkeypatch.setenv("STORAGE_HUB_STORES_FILE", str(stores))
    cfg = resolve("team", region="EU")
    assert (cfg.protocol, cfg.location, cfg.name) == ("cortx", "team-bucket/nb", "team")
    assert cfg.options == {"endpoint_url": "https://10.0.0.5:443", "region": "EU"}
    assert resolve("notastore").protocol == "file"  # not a name: a relative local path
    stores.write_text("[stores.bad]\nendpoint_url = 1\n")
    with pytest.raises(ConfigurationError, match="needs a 'url'"):
        resolve("bad")
    stores.write_text("not toml [")
    with pytest.raises(ConfigurationError, match="cannot read stores file"):
        resolve("team")


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORAGE_HUB_STORE", raising=False)
    with pytest.raises(ConfigurationError, match="STORAGE_HUB_STORE"):
        resolve()
    monkeypatch.setenv("STORAGE_HUB_STORE", "s3://b/p/")
    monkeypatch.setenv("STORAGE_HUB_STORE_OPTIONS", json.dumps({"endpoint_url": "http://x:1"}))
    assert resolve().options == {"endpoint_url": "http://x:1"}
    monkeypatch.setenv("STORAGE_HUB_STORE_OPTIONS", "{nope")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        resolve()


def test_default_store_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stores = tmp_path / "stores.toml"
    monkeypatch.setenv("STORAGE_HUB_STORES_FILE", str(stores))
    with pytest.raises(ConfigurationError, match=r"\[stores.default\]"):
        resolve()
    stores.write_text('[stores.default]\nurl = "s3://from-file/"\nendpoint_url = "http://file:1"\n')
    assert (resolve().location, resolve().name) == ("from-file", "default")
    monkeypatch.setenv("STORAGE_HUB_STORE", "s3://from-user/")
    assert resolve().location == "from-user"
    # The store of the Jupyter server that started this kernel comes first.
    monkeypatch.setenv("STORAGE_HUB_KERNEL_STORE", "s3://from-server/nb/")
    monkeypatch.setenv("STORAGE_HUB_KERNEL_STORE_OPTIONS", json.dumps({"endpoint_url": "http://server:1"}))
    cfg = resolve(region="US")
    assert (cfg.location, cfg.options) == ("from-server/nb", {"endpoint_url": "http://server:1", "region": "US"})
    monkeypatch.setenv("STORAGE_HUB_KERNEL_STORE", "default")  # a name, read from the same stores file
    assert resolve().options == {"endpoint_url": "http://server:1"}


def test_without_secrets_keeps_what_another_process_may_see() -> None:
    options = {
        "endpoint_url": "https://10.0.0.5:443",
        "key": "AKIAEXAMPLE",
        "secret": "s3cr3t",
        "token": "t",
        "client_kwargs": {"region_name": "US", "aws_secret_access_key": "x"},
    }
    assert without_secrets(options) == {"endpoint_url": "https://10.0.0.5:443", "client_kwargs": {"region_name": "US"}}
