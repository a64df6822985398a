"""KMS envelope encryption: a fresh AES-256-GCM data key per message, wrapped by a KMS key.

Only the 32-byte data key goes to KMS (``GenerateDataKey`` to encrypt, ``Decrypt`` to unwrap), so messages of
any size cost one KMS call each way, and KMS never sees the content. The encryption context is bound twice: KMS
checks it when unwrapping the data key, and AES-GCM authenticates it (with the format header) as associated
data, so a token decrypted under another context, or with any byte changed, fails instead of returning garbage.

Token format (compact, printable, safe in JSON, headers and DynamoDB strings)::

    pdenc1.<wrapped data key>.<nonce>.<ciphertext and tag>

each part unpadded URL-safe base64. The version prefix lets a later format coexist with stored tokens.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pagerduty_utils.exceptions import ConfigurationError, DependencyError, ValidationError

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

FORMAT_VERSION = "pdenc1"
NONCE_BYTES = 12
_PARTS = 4

# KMS error codes a human has to fix (key policy, key state, wrong key); anything else KMS raises is transient.
_CONFIGURATION_ERROR_CODES = frozenset(
    {
        "AccessDeniedException",
        "DisabledException",
        "NotFoundException",
        "KMSInvalidStateException",
        "InvalidKeyUsageException",
        "IncorrectKeyException",
        "InvalidGrantTokenException",
        "UnrecognizedClientException",
        "ValidationException",
    }
)
_INVALID_CIPHERTEXT_CODE = "InvalidCiphertextException"

EncryptionContext = Mapping[str, str]


class EnvelopeEncryptor:
    """Encrypts and decrypts with data keys generated and wrapped by one KMS key (id, ARN or alias)."""

    def __init__(self, key_id: str, *, kms_client: KMSClient | None = None) -> None:
        self._key_id = key_id
        self._kms_client = kms_client

    @property
    def key_id(self) -> str:
        return self._key_id

    def encrypt(self, plaintext: bytes, context: EncryptionContext | None = None) -> str:
        """Return a token that only this key, under the same ``context``, can turn back into ``plaintext``."""
        kms_context = dict(context or {})
        with _kms_errors("GenerateDataKey", self._key_id):
            response = self._client().generate_data_key(
                KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=kms_context
            )
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(response["Plaintext"]).encrypt(nonce, plaintext, _associated_data(kms_context))
        return ".".join([FORMAT_VERSION, *(_encode(part) for part in (response["CiphertextBlob"], nonce, sealed))])

    def decrypt(self, token: str, context: EncryptionContext | None = None) -> bytes:
        """Return the plaintext of ``token``; a tampered token or a different context is a ``ValidationError``."""
        wrapped_key, nonce, sealed = _parse(token)
        kms_context = dict(context or {})
        with _kms_errors("Decrypt", self._key_id):
            response = self._client().decrypt(
                CiphertextBlob=wrapped_key, KeyId=self._key_id, EncryptionContext=kms_context
            )
        try:
            return AESGCM(response["Plaintext"]).decrypt(nonce, sealed, _associated_data(kms_context))
        except InvalidTag:
            raise ValidationError("encrypted value failed authentication (tampered, or another context)") from None

    def _client(self) -> KMSClient:
        if self._kms_client is None:
            self._kms_client = boto3.client("kms")
        return self._kms_client


@contextmanager
def _kms_errors(operation: str, key_id: str) -> Iterator[None]:
    """Map KMS failures to the domain errors: configuration (needs a human), dependency (transient), input."""
    try:
        yield
    except ClientError as exc:
        raise _classify(operation, key_id, exc) from None
    except BotoCoreError as exc:
        raise DependencyError(f"KMS {operation} on {key_id!r} failed: {type(exc).__name__}") from None


def _classify(operation: str, key_id: str, exc: ClientError) -> ConfigurationError | DependencyError | ValidationError:
    code = exc.response.get("Error", {}).get("Code", "")
    if code == _INVALID_CIPHERTEXT_CODE:
        return ValidationError(f"KMS {operation}: the wrapped data key is invalid for key {key_id!r} and context")
    if code in _CONFIGURATION_ERROR_CODES:
        return ConfigurationError(f"KMS key {key_id!r} cannot be used for {operation}: {code}")
    return DependencyError(f"KMS {operation} on {key_id!r} failed: {code or 'error'}")


def _associated_data(context: Mapping[str, str]) -> bytes:
    canonical_context = json.dumps(context, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{FORMAT_VERSION}|{canonical_context}".encode()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parse(token: str) -> tuple[bytes, bytes, bytes]:
    parts = token.split(".")
    if len(parts) != _PARTS or parts[0] != FORMAT_VERSION:
        raise ValidationError(f"not a {FORMAT_VERSION} encrypted value")
    try:
        wrapped_key, nonce, sealed = (_decode(part) for part in parts[1:])
    except (binascii.Error, ValueError):
        raise ValidationError("encrypted value is not valid base64") from None
    if len(nonce) != NONCE_BYTES or not wrapped_key or not sealed:
        raise ValidationError("encrypted value is truncated")
    return wrapped_key, nonce, sealed
