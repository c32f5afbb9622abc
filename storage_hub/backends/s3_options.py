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

    Each field is described by its ``help`` metadata, one or two sentences of Markdown
    (``dataclasses.fields(S3Options)[i].metadata["help"]``); the documentation's configuration reference is
    generated from it.
    """

    endpoint_url: str | None = field(
        default=None,
        metadata={
            "help": "The server, e.g. `http://127.0.0.1:8333`; none for AWS. Starts with `http://` or `https://`."
        },
    )
    region: str | None = field(
        default=None,
        metadata={"help": "The signing region (`US` for CORTX). By default the AWS chain's, else `us-east-1`."},
    )
    addressing_style: Literal["path", "virtual", "auto"] = field(
        default="auto",
        metadata={"help": "`path` (`host/bucket/key`), `virtual` (`bucket.host/key`) or `auto`."},
    )
    verify: bool = field(
        default=True, metadata={"help": "Verify TLS certificates. Turn off for throw-away test servers only."}
    )
    ca_bundle: str | None = field(
        default=None,
        metadata={"help": "A PEM file of CA certificates to trust, for servers with a self-signed certificate."},
    )
    key: str | None = field(
        default=None,
        repr=False,
        metadata={"help": "Access key id. By default from the AWS chain; give it together with `secret`."},
    )
    secret: str | None = field(
        default=None,
        repr=False,
        metadata={"help": "Secret access key. By default from the AWS chain; never shown in messages."},
    )
    token: str | None = field(default=None, repr=False, metadata={"help": "Session token, for temporary credentials."})
    profile: str | None = field(
        default=None, metadata={"help": "The profile of the AWS shared config and credentials files to use."}
    )
    anon: bool = field(default=False, metadata={"help": "Send unsigned requests (public buckets)."})
    connect_timeout: float = field(default=5.0, metadata={"help": "Seconds to wait for a connection."})
    read_timeout: float = field(default=60.0, metadata={"help": "Seconds to wait for an answer."})
    max_attempts: int = field(
        default=4,
        metadata={
            "help": "Tries per request, the first included, with backoff on throttling, 5xx and connection errors."
        },
    )
    max_concurrency: int = field(
        default=16,
        metadata={"help": "Requests in flight in one bulk operation (folder copy or delete, multipart copy)."},
    )
    part_size: int = field(
        default=8 * MiB,
        metadata={"help": "Bytes per part of a multipart upload or streamed copy (at least 5 MiB)."},
    )
    upload_concurrency: int = field(
        default=3,
        metadata={
            "help": "Parts in flight in one streamed write; memory held is at most "
            "`part_size * (upload_concurrency + 1)`."
        },
    )
    multipart_threshold: int = field(
        default=256 * MiB,
        metadata={"help": "Whole writes larger than this, in bytes, go multipart (at least `part_size`)."},
    )
    capabilities: Mapping[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "Overrides of the backend's capability flags for this server, e.g. "
            '`{"conditional_writes": false}`.'
        },
    )

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

    @property
    def uses_tls(self) -> bool:
        """The server is reached over TLS: an ``https://`` endpoint, or AWS. Over plain ``http://`` no certificate
        is ever checked, so no CA bundle is loaded (that takes 30-50 ms per client)."""
        return not (self.endpoint_url or "").lower().startswith("http://")

    @property
    def pool_size(self) -> int:
        """Connections kept open to the server at most."""
        return max(10, self.max_concurrency * 2)

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
        if not self.uses_tls:
            client["verify"] = False
        elif self.ca_bundle or not self.verify:
            client["verify"] = self.ca_bundle if self.verify else False
        config: dict[str, Any] = {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "retries": {"total_max_attempts": self.max_attempts, "mode": "standard"},
            "s3": {"addressing_style": self.addressing_style},
            "max_pool_connections": self.pool_size,
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
