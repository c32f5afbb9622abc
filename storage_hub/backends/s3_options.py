"""The options of the S3 and CORTX backends, validated in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from ..config import redact
from ..errors import ConfigurationError

__all__ = ["S3Options"]

MiB = 2**20


@dataclass(frozen=True, kw_only=True)
class S3Options:
    """Options of an S3-compatible store.

    Credentials (``key``, ``secret``, ``token``, ``profile``) are optional: by default they come from the
    standard AWS chain (environment variables, shared config and credentials files, instance role). They are
    never written anywhere and are redacted in ``repr``.

    Attributes
    ----------
    endpoint_url: the server, e.g. ``http://127.0.0.1:8333``; ``None`` for AWS.
    region: the signing region (``US`` for CORTX); by default the AWS chain's, else ``us-east-1``.
    addressing_style: ``path`` (``host/bucket/key``), ``virtual`` (``bucket.host/key``) or ``auto``.
    verify: verify TLS certificates. ``ca_bundle``: a PEM file of CAs to trust (self-signed servers).
    connect_timeout, read_timeout: seconds. max_attempts: tries per request, with backoff, on throttling,
        5xx and connection errors.
    max_concurrency: requests in flight in one bulk operation (folder copy, delete, multipart copy).
    part_size: bytes per multipart part when streaming; upload_concurrency: parts in flight in one streamed
        write (memory held is at most ``part_size * (upload_concurrency + 1)``); multipart_threshold: whole
        writes larger than this go multipart.
    capabilities: overrides of the backend's capability flags for this server, e.g.
        ``{"conditional_writes": False}``.
    """

    endpoint_url: str | None = None
    region: str | None = None
    addressing_style: Literal["path", "virtual", "auto"] = "auto"
    verify: bool = True
    ca_bundle: str | None = None
    key: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    profile: str | None = None
    anon: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_attempts: int = 4
    max_concurrency: int = 16
    part_size: int = 8 * MiB
    upload_concurrency: int = 3
    multipart_threshold: int = 256 * MiB
    capabilities: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        return f"S3Options({redact(shown)!r})"

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any], **defaults: Any) -> S3Options:
        """Validate ``options`` (over ``defaults``) and build the options.

        Raises
        ------
        ConfigurationError
            Naming the option and the value (never a secret's value) that is wrong.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigurationError(f"unknown S3 option(s) {unknown}; known: {sorted(known)}")
        merged = {**defaults, **{k: v for k, v in options.items() if v is not None}}
        try:
            opts = cls(**merged)
        except TypeError as e:
            raise ConfigurationError(f"bad S3 options: {e}") from e
        opts._validate()
        return opts

    def _validate(self) -> None:
        def bad(name: str, why: str) -> ConfigurationError:
            value = "***" if name in ("key", "secret", "token") else repr(getattr(self, name))
            return ConfigurationError(f"S3 option {name}={value} {why}")

        if self.endpoint_url is not None and not self.endpoint_url.startswith(("http://", "https://")):
            raise bad("endpoint_url", "must start with http:// or https://")
        if self.addressing_style not in ("path", "virtual", "auto"):
            raise bad("addressing_style", "must be 'path', 'virtual' or 'auto'")
        if self.ca_bundle is not None and not os.path.isfile(self.ca_bundle):
            raise bad("ca_bundle", "is not a readable file")
        for name in ("verify", "anon"):
            if not isinstance(getattr(self, name), bool):
                raise bad(name, "must be true or false")
        for name in ("connect_timeout", "read_timeout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise bad(name, "must be a positive number of seconds")
        for name, low in (
            ("max_attempts", 1),
            ("max_concurrency", 1),
            ("upload_concurrency", 1),
            ("part_size", 5 * MiB),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise bad(name, f"must be a whole number >= {low}")
        if not isinstance(self.multipart_threshold, int) or self.multipart_threshold < self.part_size:
            raise bad("multipart_threshold", "must be a whole number >= part_size")
        if (self.key is None) != (self.secret is None):
            raise ConfigurationError("S3 options key and secret go together: give both or neither")
        if not isinstance(self.capabilities, Mapping):
            raise bad("capabilities", "must be a mapping of capability name to value")

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for botocore's ``Session.create_client("s3", ...)``: the same client s3fs builds."""
        from botocore import UNSIGNED
        from botocore.config import Config

        options = self.storage_options()
        config = dict(options["config_kwargs"])
        if self.anon:
            config["signature_version"] = UNSIGNED
        kwargs: dict[str, Any] = {"endpoint_url": self.endpoint_url, "config": Config(**config)}
        kwargs.update(options["client_kwargs"])
        if not self.anon:
            kwargs.update(aws_access_key_id=self.key, aws_secret_access_key=self.secret, aws_session_token=self.token)
        return kwargs

    def storage_options(self) -> dict[str, Any]:
        """The equivalent ``s3fs.S3FileSystem`` keyword arguments (for pandas, Dask, fsspec URLs)."""
        client: dict[str, Any] = {}
        if self.region:
            client["region_name"] = self.region
        if self.ca_bundle or not self.verify:
            client["verify"] = self.ca_bundle if self.verify else False
        config: dict[str, Any] = {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "retries": {"total_max_attempts": self.max_attempts, "mode": "standard"},
            "s3": {"addressing_style": self.addressing_style},
            "max_pool_connections": max(10, self.max_concurrency * 2),
            # Newer botocore adds CRC checksums to every upload; CORTX and older S3 servers refuse them.
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
        }
        result: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "anon": self.anon,
            "client_kwargs": client,
            "config_kwargs": config,
        }
        for name in ("key", "secret", "token", "profile"):
            if getattr(self, name) is not None:
                result[name] = getattr(self, name)
        return result
