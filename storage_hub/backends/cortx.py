"""CORTX: the S3 protocol with CORTX's defaults and capability profile.

CORTX's S3 server answers on ``https://<data-ip>:443`` (or ``http://...:80``), usually with a self-signed CA, signs
in region ``US`` and wants path-style addressing. It supports get/put/delete/head/copy object, list (v1/v2),
multipart upload and multi-object delete; it has no versioning, no conditional writes and no ``UploadPartCopy``,
so exclusive creation is a check-then-write and copies above 5 GiB stream through the client.
"""

from __future__ import annotations

from types import MappingProxyType

from ..backend import Capabilities
from ..config import StoreConfig
from ..errors import ConfigurationError
from .s3 import GiB, S3Backend
from .s3_errors import Advice

__all__ = ["CortxBackend"]


class CortxBackend(S3Backend):
    """A bucket (and optional prefix) on a CORTX cluster: ``cortx://bucket/prefix/``."""

    protocols = ("cortx",)
    capabilities = Capabilities(
        server_side_copy=True,
        multipart_copy=False,
        conditional_writes=False,
        versioning=False,
        bulk_delete=True,
        checked_writes=True,
        max_single_put=5 * GiB,
        max_copy_size=5 * GiB,
        max_key_bytes=1024,
    )
    option_defaults = MappingProxyType({"addressing_style": "path", "region": "US"})
    product = "CORTX S3"

    def __init__(self, config: StoreConfig) -> None:
        if not config.options.get("endpoint_url"):
            raise ConfigurationError(
                f"{config.url}: CORTX needs endpoint_url, the cluster's S3 data endpoint, "
                "e.g. endpoint_url='https://<data-ip>:443' (or 'http://<data-ip>:80')"
            )
        super().__init__(config)

    def make_advice(self, key_id: str) -> Advice:
        return Advice(
            endpoint=self.options.endpoint_url or "",
            key_id=key_id,
            product=self.product,
            tls_hint=(
                "CORTX endpoints usually use a self-signed certificate: pass ca_bundle='/path/to/ca.crt' with the "
                "CA certificate of your CORTX cluster (or verify=False for a throw-away test only)"
            ),
            secret_hint=(
                "check the secret key of this CORTX S3 account (AWS_SECRET_ACCESS_KEY, the profile, or the "
                "'secret' option); CORTX shows it only once, when the access key is created"
            ),
        )
