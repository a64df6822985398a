"""PagerDuty Webhooks v3 signatures: ``X-PagerDuty-Signature: v1=<hex HMAC-SHA256(secret, raw body)>[,v1=...]``.

During a secret rotation PagerDuty sends one ``v1=`` entry per active secret; a delivery is authentic when any
entry matches any of our active secrets. Every comparison is constant-time (``hmac.compare_digest``), and the
secrets are fetched through ``pagerduty_utils.secrets`` (cached per container).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence

from pagerduty_utils import secrets
from pagerduty_utils.exceptions import ConfigurationError, MalformedSignatureError

SIGNATURE_HEADER = "X-PagerDuty-Signature"
SIGNATURE_VERSION = "v1"
MAX_SIGNATURES = 8
_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def parse_signature_header(header: str | None) -> tuple[bytes, ...]:
    """The ``v1`` signatures in the header, lower-case hex as bytes.

    Entries of other versions are skipped (PagerDuty may add schemes); a header that is missing, has an entry
    without ``=``, a ``v1`` value that is not 64 hex digits, more than ``MAX_SIGNATURES`` entries, or no ``v1``
    entry at all raises ``MalformedSignatureError``.
    """
    if header is None or not header.strip():
        raise MalformedSignatureError(f"{SIGNATURE_HEADER} header is missing")
    entries = [entry.strip() for entry in header.split(",") if entry.strip()]
    if len(entries) > MAX_SIGNATURES:
        raise MalformedSignatureError(f"{SIGNATURE_HEADER} header has more than {MAX_SIGNATURES} entries")
    signatures: list[bytes] = []
    for entry in entries:
        version, separator, value = entry.partition("=")
        if not separator:
            raise MalformedSignatureError(f"{SIGNATURE_HEADER} header entry is not version=value")
        if version.strip() != SIGNATURE_VERSION:
            continue
        value = value.strip()
        if not _HEX_SHA256.fullmatch(value):
            raise MalformedSignatureError(f"{SIGNATURE_HEADER} v1 value is not a hex SHA-256 digest")
        signatures.append(value.lower().encode("ascii"))
    if not signatures:
        raise MalformedSignatureError(f"{SIGNATURE_HEADER} header has no v1 signature")
    return tuple(signatures)


def sign(body: bytes, secret: bytes) -> str:
    """The ``v1=...`` header entry PagerDuty would send for ``body`` signed with ``secret``."""
    return f"{SIGNATURE_VERSION}={hmac.new(secret, body, hashlib.sha256).hexdigest()}"


def is_authentic(body: bytes, signatures: Sequence[bytes], active_secrets: Sequence[bytes]) -> bool:
    """True when any signature matches any secret. Every pair is compared, in constant time each."""
    matched = False
    for secret in active_secrets:
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode("ascii")
        for signature in signatures:
            matched |= hmac.compare_digest(expected, signature)
    return matched


class WebhookSecretSource(ABC):
    """Where the active webhook signing secrets come from."""

    @abstractmethod
    def active_secrets(self) -> tuple[bytes, ...]:
        """Every secret currently valid (more than one during a rotation); never empty."""


class SecretsManagerWebhookSecrets(WebhookSecretSource):
    """Secrets from one secret holding a JSON list of strings, or an object ``{"secrets": [...]}``."""

    def __init__(self, secret_id: str, *, max_age: int) -> None:
        self._secret_id = secret_id
        self._max_age = max_age

    def active_secrets(self) -> tuple[bytes, ...]:
        document = secrets.get_secret_json(self._secret_id, max_age=self._max_age)
        return secrets_from_document(document, source=self._secret_id)


def secrets_from_document(document: object, *, source: str) -> tuple[bytes, ...]:
    """Validate the secret's JSON shape; the error names the secret, never a value."""
    values = document.get("secrets") if isinstance(document, dict) else document
    if not isinstance(values, list) or not values:
        raise ConfigurationError(f"secret {source!r} must be a non-empty JSON list or an object with 'secrets'")
    if not all(isinstance(value, str) and value for value in values):
        raise ConfigurationError(f"secret {source!r} must contain only non-empty strings")
    return tuple(value.encode("utf-8") for value in values)
