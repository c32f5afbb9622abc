"""One table from S3 error codes (and client-side failures) to storage-hub's typed errors.

Every S3 call of the S3 and CORTX backends goes through :func:`s3_errors`, so the user always gets a typed error
whose message says what to fix, and never a secret.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    SSLError,
)

from ..errors import (
    AuthenticationError,
    BackendUnavailable,
    BucketNotFound,
    ChecksumMismatch,
    ConfigurationError,
    Conflict,
    NotFound,
    PermissionDenied,
    StorageError,
)

__all__ = ["ERROR_CODES", "Advice", "cause_code", "clock_skew_seconds", "error_code", "s3_errors", "translate"]


@dataclass(frozen=True)
class Advice:
    """What the messages of one backend say; the CORTX backend words some of them for CORTX."""

    endpoint: str
    key_id: str
    tls_hint: str = "pass ca_bundle='/path/to/ca.pem' (the CA that signed the server's certificate)"
    secret_hint: str = "check the secret key (AWS_SECRET_ACCESS_KEY, the profile, or the 'secret' option)"
    product: str = "S3"


def error_code(error: ClientError) -> str:
    """The S3 error code of a ``ClientError`` (``"404"`` for a HEAD without body)."""
    err = error.response.get("Error", {})
    return str(err.get("Code") or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def cause_code(error: StorageError) -> str | None:
    """The S3 error code behind a translated error, if it came from a server answer."""
    cause = error.__cause__
    return error_code(cause) if isinstance(cause, ClientError) else None


def clock_skew_seconds(response: Mapping[str, Any]) -> float | None:
    """Server time minus local time, from an S3 response or error (``ServerTime`` or the ``Date`` header)."""
    err = response.get("Error", {})
    server: datetime | None = None
    if err.get("ServerTime"):
        try:
            server = datetime.fromisoformat(str(err["ServerTime"]).replace("Z", "+00:00"))
        except ValueError:
            server = None
    if server is None:
        date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        if not date:
            return None
        try:
            server = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return None
    if server.tzinfo is None:
        server = server.replace(tzinfo=timezone.utc)
    return (server - datetime.now(timezone.utc)).total_seconds()


def _where(advice: Advice) -> str:
    return f"{advice.product} endpoint {advice.endpoint}"


def _bucket(key: str) -> str:
    return key.split("/", 1)[0]


def _server_message(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Message") or error_code(e))


def _not_found(e: ClientError, key: str, advice: Advice) -> StorageError:
    return NotFound(f"{key}: no such file or folder", key)


def _access_denied(e: ClientError, key: str, advice: Advice) -> StorageError:
    return PermissionDenied(f"{key}: access denied for access key {advice.key_id!r} at {_where(advice)}", key)


def _clock_skew(e: ClientError, key: str, advice: Advice) -> StorageError:
    skew = clock_skew_seconds(e.response)
    by = f"by {abs(skew):.0f} s " if skew is not None else ""
    return AuthenticationError(
        f"this machine's clock differs from {_where(advice)} {by}(more than the server allows): sync the clock "
        "(NTP: chrony or systemd-timesyncd), then retry"
    )


def _unavailable(e: ClientError, key: str, advice: Advice) -> StorageError:
    return BackendUnavailable(
        f"{_where(advice)} kept failing after retries ({error_code(e)}: {_server_message(e)})", key
    )


#: S3 error code -> the typed error it becomes, built from the error, the key and the backend's wording.
#: Any other code is a ``BackendUnavailable`` if the HTTP status is 5xx, else a plain ``StorageError``.
#: The documentation's troubleshooting table is generated from this mapping.
ERROR_CODES: Mapping[str, Callable[[ClientError, str, Advice], StorageError]] = MappingProxyType(
    {
        "NoSuchKey": _not_found,
        "404": _not_found,
        "NotFound": _not_found,
        "NoSuchBucket": lambda e, key, advice: BucketNotFound(
            f"bucket {_bucket(key)!r} does not exist at {_where(advice)}: create it, or fix the bucket in the "
            "store URL",
            key,
        ),
        "AccessDenied": _access_denied,
        "403": _access_denied,
        "SignatureDoesNotMatch": lambda e, key, advice: AuthenticationError(
            f"{_where(advice)} rejected the request signature for access key {advice.key_id!r}: {advice.secret_hint}"
        ),
        "InvalidAccessKeyId": lambda e, key, advice: AuthenticationError(
            f"access key {advice.key_id!r} is not known to {_where(advice)}: check the access key and that it "
            "belongs to this server"
        ),
        "ExpiredToken": lambda e, key, advice: AuthenticationError(
            f"the session token has expired for {_where(advice)}: renew it"
        ),
        "InvalidToken": lambda e, key, advice: AuthenticationError(
            f"the session token is not valid for {_where(advice)}"
        ),
        "InvalidBucketName": lambda e, key, advice: ConfigurationError(
            f"{_bucket(key)!r} is not a valid bucket name for {_where(advice)}"
        ),
        "NoSuchUpload": lambda e, key, advice: Conflict(f"{key}: the upload was aborted or expired on the server", key),
        "PreconditionFailed": lambda e, key, advice: Conflict(
            f"{key}: the object changed on the server meanwhile", key
        ),
        "BadDigest": lambda e, key, advice: ChecksumMismatch(
            f"{key}: the bytes {_where(advice)} received differ from their Content-MD5; nothing was written", key
        ),
        "RequestTimeTooSkewed": _clock_skew,
        "SlowDown": _unavailable,
        "ServiceUnavailable": _unavailable,
        "InternalError": _unavailable,
        "RequestTimeout": _unavailable,
    }
)


def _client_error(e: ClientError, key: str, advice: Advice) -> StorageError:
    code = error_code(e)
    build = ERROR_CODES.get(code)
    if build is not None:
        return build(e, key, advice)
    if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
        return _unavailable(e, key, advice)
    return StorageError(f"{key}: {_where(advice)} answered {code}: {_server_message(e)}", key)


def _is_tls_failure(e: BaseException) -> bool:
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, (SSLError, ssl.SSLError)) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def translate(e: BaseException, key: str, advice: Advice) -> StorageError:
    """The storage-hub error for an exception raised by an S3 call about ``key``."""
    where = _where(advice)
    if isinstance(e, ClientError):
        return _client_error(e, key, advice)
    if _is_tls_failure(e):
        return BackendUnavailable(f"TLS verification failed for {where}: {advice.tls_hint}", key)
    if isinstance(e, (NoCredentialsError, PartialCredentialsError)):
        return AuthenticationError(
            f"no complete credentials found for {where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "choose a profile (AWS_PROFILE or the 'profile' option), or pass key= and secret="
        )
    if isinstance(e, (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError, ConnectionError)):
        return BackendUnavailable(
            f"cannot reach {where}: check endpoint_url and that the server is running and reachable", key
        )
    if isinstance(e, (ReadTimeoutError, TimeoutError)):
        return BackendUnavailable(f"{where} did not answer in time (read_timeout) for {key}", key)
    return BackendUnavailable(f"{where}: {type(e).__name__}: {e}", key)


@contextmanager
def s3_errors(key: str, advice: Advice) -> Iterator[None]:
    """Translate any S3 failure inside the block into a typed storage-hub error (``from`` the original)."""
    try:
        yield
    except StorageError:
        raise
    except (ClientError, BotoCoreError, OSError) as e:
        raise translate(e, key, advice) from e
    except Exception as e:
        # aiohttp's client errors do not derive from OSError in every version.
        if type(e).__module__.startswith("aiohttp"):
            raise translate(ConnectionError(str(e)), key, advice) from e
        raise
