"""Short-lived signed tokens (JWT, HS256) for callers who must prove who they are to see more.

Keys live in a secret read through ``pagerduty_utils.secrets``: a JSON list of active keys, each at least 32
bytes (RFC 7518 asks for a key as long as the hash) and random-looking (``estimated_key_bits``). Tokens are
signed with the first key and verified against every key, so a key is rotated by putting the new one first,
waiting out the longest token lifetime, then removing the old one.

Verification trusts nothing the token says about itself: the header's algorithm must be in
``ALLOWED_ALGORITHMS`` (HS256 only: never "none", and never a public-key algorithm that would treat our HMAC key
as a public key), the claims exp, iat, iss, aud and sub are required, the audience and issuer must be the
policy's, clocks may disagree by the policy's leeway only, and a token may not live (exp - iat) longer than the
policy allows, whoever signed it. Errors are ``InvalidTokenError`` (a ``SignatureError``) with a reason that
never contains the token or a key; a missing or unusable key set is a ``ConfigurationError``.

PyJWT is imported on the first issue or verification, not with this module: a function that only may verify a
token does not pay for it at cold start (60 ms alone where ``cryptography`` is installed, which PyJWT then loads
for the public-key algorithms refused above; about half that without it, as in the Lambda layer).
"""

from __future__ import annotations

import math
import time
import uuid
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pagerduty_utils.exceptions import ConfigurationError, SignatureError, ValidationError
from pagerduty_utils.secrets import get_secret_json

if TYPE_CHECKING:
    import jwt

ALGORITHM = "HS256"
ALLOWED_ALGORITHMS = (ALGORITHM,)
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")
MIN_KEY_BYTES = 32
# What a key's own characters must be worth (``estimated_key_bits``). A random 32-byte key written in base64 or
# hex scores well above; repeated, short-alphabet and sequential keys, and 32 hex digits (128 bits, half of
# what RFC 7518 asks for HS256) score below.
MIN_KEY_BITS = 160
# A bearer token is a few hundred characters; anything far longer is not worth parsing.
MAX_TOKEN_LENGTH = 4096


class InvalidTokenError(SignatureError):
    """The token is malformed, forged, for someone else, or outside its lifetime."""


class ExpiredTokenError(InvalidTokenError):
    """The token was valid once and has expired."""


@dataclass(frozen=True)
class TokenPolicy:
    """Who issues tokens, for which audience, and how long they may live."""

    issuer: str
    audience: str
    max_lifetime_seconds: int = 3600
    leeway_seconds: int = 30


@dataclass(frozen=True)
class VerifiedToken:
    subject: str
    token_id: str | None
    issued_at: datetime
    expires_at: datetime


class SigningKeys(ABC):
    """The active keys, the one to sign with first."""

    @abstractmethod
    def active(self) -> tuple[bytes, ...]:
        """At least one key; ``ConfigurationError`` when there is none."""


class SecretSigningKeys(SigningKeys):
    """Keys from a Secrets Manager secret or SSM SecureString (``ssm:/path``), cached for ``max_age`` seconds."""

    def __init__(self, reference: str, *, max_age: int = 300) -> None:
        self._reference = reference
        self._max_age = max_age

    def active(self) -> tuple[bytes, ...]:
        return signing_keys_from(get_secret_json(self._reference, max_age=self._max_age), source=self._reference)

    def __repr__(self) -> str:
        return f"SecretSigningKeys({self._reference!r})"


def signing_keys_from(value: Any, *, source: str) -> tuple[bytes, ...]:
    """The keys in a secret's JSON value: a non-empty list of strings of at least ``MIN_KEY_BYTES`` bytes."""
    if not isinstance(value, list) or not value:
        raise ConfigurationError(f"secret {source!r} must be a non-empty JSON list of signing keys")
    keys = []
    for position, key in enumerate(value):
        if not isinstance(key, str) or len(key.encode()) < MIN_KEY_BYTES:
            raise ConfigurationError(
                f"secret {source!r}: key {position} must be a string of at least {MIN_KEY_BYTES} bytes"
            )
        if estimated_key_bits(key) < MIN_KEY_BITS:
            raise ConfigurationError(
                f"secret {source!r}: key {position} is too predictable (repeated or few distinct characters); "
                "generate keys with `openssl rand -base64 48`"
            )
        keys.append(key.encode())
    return tuple(keys)


def estimated_key_bits(key: str) -> float:
    """An upper estimate of a key's entropy from its characters alone: length times the Shannon entropy of their
    frequencies. It refuses what is visibly not random; it cannot recognise a passphrase of varied words."""
    counts = Counter(key)
    return -sum(count * math.log2(count / len(key)) for count in counts.values())


class TokenAuthority:
    """Issues and verifies the tokens of one policy with one key set."""

    def __init__(self, keys: SigningKeys, policy: TokenPolicy, *, clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self._policy = policy
        self._clock = clock

    @property
    def policy(self) -> TokenPolicy:
        return self._policy

    def issue(self, subject: str, *, lifetime_seconds: int) -> str:
        """A token for ``subject`` valid for ``lifetime_seconds`` (at most the policy's maximum)."""
        if not subject:
            raise ValidationError("a token needs a subject")
        if not 0 < lifetime_seconds <= self._policy.max_lifetime_seconds:
            raise ValidationError(f"token lifetime must be between 1 and {self._policy.max_lifetime_seconds} seconds")
        import jwt  # noqa: PLC0415  # deferred, see the module docstring

        issued_at = int(self._clock())
        claims = {
            "iss": self._policy.issuer,
            "aud": self._policy.audience,
            "sub": subject,
            "iat": issued_at,
            "exp": issued_at + lifetime_seconds,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._keys.active()[0], algorithm=ALGORITHM)

    def verify(self, token: str) -> VerifiedToken:
        """The token's identity when it is valid now; ``InvalidTokenError`` (or ``ExpiredTokenError``) if not."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidTokenError("token is empty or too long")
        claims = self._decode(token)
        issued_at, expires_at = _timestamp(claims, "iat"), _timestamp(claims, "exp")
        if expires_at - issued_at > self._policy.max_lifetime_seconds:
            raise InvalidTokenError(f"token lifetime exceeds {self._policy.max_lifetime_seconds} seconds")
        self._check_validity_period(claims, issued_at, expires_at)
        token_id = claims.get("jti")
        return VerifiedToken(
            subject=claims["sub"],
            token_id=token_id if isinstance(token_id, str) else None,
            issued_at=datetime.fromtimestamp(issued_at, UTC),
            expires_at=datetime.fromtimestamp(expires_at, UTC),
        )

    def _check_validity_period(self, claims: dict[str, Any], issued_at: int, expires_at: int) -> None:
        """Expiry and not-before against this authority's clock (PyJWT would read the wall clock itself)."""
        now, leeway = self._clock(), self._policy.leeway_seconds
        if expires_at <= now - leeway:
            raise ExpiredTokenError("token has expired")
        not_before = max(issued_at, _timestamp(claims, "nbf")) if "nbf" in claims else issued_at
        if not_before > now + leeway:
            raise InvalidTokenError("token is not valid yet")

    def _decode(self, token: str) -> dict[str, Any]:
        """The claims, checked against the first key whose signature matches (claims are only read after a
        signature matched: PyJWT verifies the signature before it validates any claim)."""
        import jwt  # noqa: PLC0415  # deferred, see the module docstring

        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError:
            raise InvalidTokenError("token is malformed") from None
        if algorithm not in ALLOWED_ALGORITHMS:
            raise InvalidTokenError(f"token algorithm {str(algorithm)[:16]!r} is not allowed")
        for key in self._keys.active():
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=list(ALLOWED_ALGORITHMS),
                    audience=self._policy.audience,
                    issuer=self._policy.issuer,
                    # The validity period is checked against our clock, in _check_validity_period.
                    options={
                        "require": list(REQUIRED_CLAIMS),
                        "strict_aud": True,
                        "verify_exp": False,
                        "verify_iat": False,
                        "verify_nbf": False,
                    },
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.InvalidTokenError as error:
                raise _refusal(error) from None
            return claims
        raise InvalidTokenError("token signature does not match any active key")


def _timestamp(claims: dict[str, Any], name: str) -> int:
    """A NumericDate claim as JSON numbers it (PyJWT also accepts text that parses as an integer)."""
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTokenError(f"token {name!r} claim is not a number")
    return int(value)


def _refusal(error: jwt.InvalidTokenError) -> InvalidTokenError:
    """Our error for PyJWT's, with a reason of our own (PyJWT's messages may quote claim values)."""
    import jwt  # noqa: PLC0415  # deferred, see the module docstring

    if isinstance(error, jwt.MissingRequiredClaimError):
        return InvalidTokenError(f"token lacks the {error.claim!r} claim")
    reasons: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
        (jwt.InvalidAudienceError, "token is for another audience"),
        (jwt.InvalidIssuerError, "token is from another issuer"),
        (jwt.DecodeError, "token is malformed"),
    )
    reason = next((text for error_type, text in reasons if isinstance(error, error_type)), "token claims are invalid")
    return InvalidTokenError(reason)
