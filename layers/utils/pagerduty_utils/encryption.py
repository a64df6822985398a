"""KMS envelope encryption: a fresh AES-256-GCM data key per message, wrapped by a KMS key.

Only the 32-byte data key goes to KMS (``GenerateDataKey`` to encrypt, ``Decrypt`` to unwrap), so messages of
any size cost one KMS call each way, and KMS never sees the content. The encryption context is bound twice: KMS
checks it when unwrapping the data key, and AES-GCM authenticates it (with the format header) as associated
data, so a token decrypted under another context, or with any byte changed, fails instead of returning garbage.

Token format (compact, printable, safe in JSON, headers and DynamoDB strings)::

    pdenc1.<wrapped data key>.<nonce>.<ciphertext and tag>

each part unpadded URL-safe base64. The version prefix lets a later format coexist with stored tokens.

``SecurityManager`` is the utils README's face over both: ``encrypt_sensitive_data`` takes a str, bytes or a
JSON-able dict and ``decrypt_sensitive_data`` gives back the same type. Its key is a KMS key (id, ``alias/...``
or ARN: the envelope above), or, for use outside AWS, a local 256-bit key in base64::

    pdloc1.<key fingerprint>.<nonce>.<ciphertext and tag>

KMS is preferred wherever it is reachable: the key never leaves KMS, every use is authorised by IAM and logged
in CloudTrail, and rotation and revocation happen in one place. A local key is a secret the process holds in
memory; keep it in Secrets Manager or SSM (a reference in the configuration), never in code or a plain variable.

AES-GCM comes from ``cryptography``, the ``encryption`` extra (``pip install pagerduty-aws-lambda[encryption]``),
which the Lambda layer leaves out: a function that encrypts adds it to its own requirements (docs/seed-api.md).
This module imports without it; building an encryptor without it is a ``ConfigurationError`` that says so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, Protocol

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import ConfigurationError, DependencyError, ValidationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from mypy_boto3_kms import KMSClient

FORMAT_VERSION = "pdenc1"
LOCAL_FORMAT_VERSION = "pdloc1"
NONCE_BYTES = 12
KEY_BYTES = 32
# What GenerateDataKey is asked for: the AES-256 data key of every envelope.
DATA_KEY_SPEC: Final = "AES_256"
MISSING_CRYPTOGRAPHY = (
    "SecurityManager needs the cryptography package: install pagerduty-aws-lambda[encryption], "
    "or add cryptography to the function's (or the layer's) requirements"
)
_FINGERPRINT_BYTES = 8
_PARTS = 4
_KMS_KEY = re.compile(
    r"^(alias/\S+|arn:aws[a-z-]*:kms:\S+|mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)

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
        self._aesgcm = _aesgcm()
        self._key_id = key_id
        self._kms_client = kms_client

    @property
    def key_id(self) -> str:
        return self._key_id

    def encrypt(self, plaintext: bytes, context: EncryptionContext | None = None) -> str:
        """Return a token that only this key, under the same ``context``, can turn back into ``plaintext``."""
        kms_context = dict(context or {})
        with kms_errors("GenerateDataKey", self._key_id):
            response = self._client().generate_data_key(
                KeyId=self._key_id, KeySpec=DATA_KEY_SPEC, EncryptionContext=kms_context
            )
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aesgcm(response["Plaintext"]).encrypt(nonce, plaintext, _associated_data(kms_context))
        return ".".join([FORMAT_VERSION, *(_encode(part) for part in (response["CiphertextBlob"], nonce, sealed))])

    def decrypt(self, token: str, context: EncryptionContext | None = None) -> bytes:
        """Return the plaintext of ``token``; a tampered token or a different context is a ``ValidationError``."""
        wrapped_key, nonce, sealed = _parse(token)
        kms_context = dict(context or {})
        with kms_errors("Decrypt", self._key_id):
            response = self._client().decrypt(
                CiphertextBlob=wrapped_key, KeyId=self._key_id, EncryptionContext=kms_context
            )
        return _open(self._aesgcm(response["Plaintext"]), nonce, sealed, _associated_data(kms_context))

    def _client(self) -> KMSClient:
        if self._kms_client is None:
            self._kms_client = boto3.client("kms")
        return self._kms_client


class LocalKeyEncryptor:
    """AES-256-GCM under one 256-bit key held in memory, for use outside AWS (see the module docstring).

    Tokens name the key by a fingerprint (a truncated SHA-256 of it, which reveals nothing usable), so a token
    sealed under another key is refused as such instead of as tampered.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ConfigurationError(f"a local encryption key must be {KEY_BYTES} bytes (256 bits)")
        self._aead = _aesgcm()(key)
        self._fingerprint = hashlib.sha256(b"pagerduty-utils key fingerprint|" + key).digest()[:_FINGERPRINT_BYTES]

    @classmethod
    def from_base64(cls, text: str) -> LocalKeyEncryptor:
        """A key written in standard or URL-safe base64 (``openssl rand -base64 32``)."""
        try:
            key = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError("the local encryption key is not valid base64") from None
        return cls(key)

    def encrypt(self, plaintext: bytes, context: EncryptionContext | None = None) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, self._associated_data(context))
        return ".".join([LOCAL_FORMAT_VERSION, *(_encode(part) for part in (self._fingerprint, nonce, sealed))])

    def decrypt(self, token: str, context: EncryptionContext | None = None) -> bytes:
        fingerprint, nonce, sealed = _parse(token, LOCAL_FORMAT_VERSION)
        if fingerprint != self._fingerprint:
            raise ValidationError("encrypted value was sealed under another key")
        return _open(self._aead, nonce, sealed, self._associated_data(context))

    def _associated_data(self, context: EncryptionContext | None) -> bytes:
        return _associated_data(dict(context or {}), f"{LOCAL_FORMAT_VERSION}|{_encode(self._fingerprint)}")


class Encryptor(Protocol):
    def encrypt(self, plaintext: bytes, context: EncryptionContext | None = None) -> str: ...

    def decrypt(self, token: str, context: EncryptionContext | None = None) -> bytes: ...


SensitiveValue = str | bytes | dict[str, Any]

# The value's type travels inside the ciphertext (authenticated), so decryption gives back what was sealed.
_TEXT, _BYTES, _JSON = b"s", b"b", b"j"


class SecurityManager:
    """``encrypt_sensitive_data(value)`` -> one printable token; ``decrypt_sensitive_data(token)`` -> the value.

    ``encryption_key`` is a KMS key id, ``alias/...`` or ARN (envelope encryption, preferred), or a base64
    256-bit local key, or a secret reference to either (``ssm:/...``, ``secretsmanager:...``). Without it, the
    configuration's ``security.encryption_key`` (file or ``ENCRYPTION_KEY``) is used. ``context`` (an
    encryption context) is bound to every token, merged with the context given to a call: a token only
    decrypts under the context it was sealed with. Needs ``cryptography`` (the ``encryption`` extra): without it,
    construction raises a ``ConfigurationError`` saying how to add it.
    """

    def __init__(
        self,
        encryption_key: str | None = None,
        *,
        context: EncryptionContext | None = None,
        kms_client: KMSClient | None = None,
    ) -> None:
        self._encryptor = encryptor_for(encryption_key or _configured_key(), kms_client=kms_client)
        self._context = dict(context or {})

    @property
    def uses_kms(self) -> bool:
        return isinstance(self._encryptor, EnvelopeEncryptor)

    def encrypt_sensitive_data(self, value: SensitiveValue, context: EncryptionContext | None = None) -> str:
        if isinstance(value, str):
            payload = _TEXT + value.encode()
        elif isinstance(value, bytes):
            payload = _BYTES + value
        elif isinstance(value, dict):
            try:
                payload = _JSON + json.dumps(value, separators=(",", ":"), allow_nan=False).encode()
            except (TypeError, ValueError) as exc:
                raise ValidationError(f"sensitive data must be JSON-serialisable: {type(exc).__name__}") from None
        else:
            raise ValidationError(f"sensitive data must be str, bytes or a dict, not {type(value).__name__}")
        return self._encryptor.encrypt(payload, self._merged(context))

    def decrypt_sensitive_data(self, token: str, context: EncryptionContext | None = None) -> SensitiveValue:
        if not isinstance(token, str) or not token.startswith((FORMAT_VERSION + ".", LOCAL_FORMAT_VERSION + ".")):
            raise ValidationError("not an encrypted value produced by SecurityManager")
        payload = self._encryptor.decrypt(token, self._merged(context))
        kind, body = payload[:1], payload[1:]
        if kind == _TEXT:
            return body.decode()
        if kind == _BYTES:
            return body
        if kind == _JSON:
            decoded: dict[str, Any] = json.loads(body)
            return decoded
        raise ValidationError("encrypted value was not produced by SecurityManager")

    def _merged(self, context: EncryptionContext | None) -> dict[str, str]:
        return {**self._context, **(context or {})}


def encryptor_for(encryption_key: str, *, kms_client: KMSClient | None = None) -> Encryptor:
    """The envelope for a KMS key (id, alias, ARN), else a local key; a secret reference is read first."""
    from pagerduty_utils.config_parser.settings_file import resolve_secret  # noqa: PLC0415  # only for references

    _aesgcm()  # both encryptors need it: say so before a secret is read, and not as "neither kind of key" below
    key = resolve_secret(encryption_key)
    if _KMS_KEY.match(key):
        return EnvelopeEncryptor(key, kms_client=kms_client)
    try:
        return LocalKeyEncryptor.from_base64(key)
    except ConfigurationError:
        raise ConfigurationError(
            "the encryption key is neither a KMS key (id, alias/..., ARN) nor a base64 256-bit local key"
        ) from None


def _configured_key() -> str:
    from pagerduty_utils.config_parser.settings_file import utils_config  # noqa: PLC0415  # the file only when used

    key = utils_config().security.encryption_key
    if key is None:
        raise ConfigurationError("no encryption key: set security.encryption_key (file) or ENCRYPTION_KEY")
    return key


def _aesgcm() -> type[AESGCM]:
    """``cryptography``'s AES-GCM, imported when an encryptor is built rather than with this module.

    The Lambda layer leaves ``cryptography`` out (5 MB of its 10 MB budget, used by none of the three functions),
    so this module, the package's exports and the KMS error mapping must import without it. Failing when an
    encryptor is built, not when a value is first sealed, tells a function deployed without the extra at once
    (usually during Init) instead of on the first secret it protects, perhaps in the middle of an incident.
    """
    try:
        from cryptography.hazmat.primitives.ciphers import aead  # noqa: PLC0415  # optional: see the docstring
    except ImportError:
        raise ConfigurationError(MISSING_CRYPTOGRAPHY) from None
    return aead.AESGCM


def _open(cipher: AESGCM, nonce: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    """The plaintext of ``sealed``, or a ``ValidationError`` when its tag does not authenticate."""
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415  # loaded already: ``cipher`` comes from it

    try:
        return cipher.decrypt(nonce, sealed, associated_data)
    except InvalidTag:
        raise ValidationError("encrypted value failed authentication (tampered, or another context)") from None


@contextmanager
def kms_errors(operation: str, key_id: str) -> Iterator[None]:
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


def _associated_data(context: Mapping[str, str], header: str = FORMAT_VERSION) -> bytes:
    canonical_context = json.dumps(context, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{header}|{canonical_context}".encode()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parse(token: str, version: str = FORMAT_VERSION) -> tuple[bytes, bytes, bytes]:
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != _PARTS or parts[0] != version:
        raise ValidationError(f"not a {version} encrypted value")
    try:
        first, nonce, sealed = (_decode(part) for part in parts[1:])
    except (binascii.Error, ValueError):
        raise ValidationError("encrypted value is not valid base64") from None
    if len(nonce) != NONCE_BYTES or not first or not sealed:
        raise ValidationError("encrypted value is truncated")
    return first, nonce, sealed
