"""The utils configuration file: the README's YAML (``pagerduty``, ``cache``, ``security``), validated once.

::

    pagerduty:
      api_timeout: 30             # seconds to wait for PagerDuty's answer (the read timeout)
      retry_attempts: 3
      circuit_breaker:
        failure_threshold: 5
        recovery_timeout: 60
    state_table: pagerduty-state           # DynamoDB: circuits, and the cache when no Redis URL is set
    cache:
      redis_url: "redis://localhost:6379"
      default_ttl: 300
    security:
      encryption_key: "${ENCRYPTION_KEY}"
      jwt_secret: "${JWT_SECRET}"

The file is found from code (``configure(path)``, ``load_utils_config(path)``) or from the environment variable
``PAGERDUTY_UTILS_CONFIG``; without either, the defaults apply. Precedence is environment > file > defaults:
each key has an environment variable (``ENVIRONMENT_OVERRIDES``) that wins over the file. ``${NAME}`` and
``${NAME:-default}`` are interpolated in string values. Unknown keys, wrong types and unset variables are
``ConfigurationError``s naming the file, the key's path and, for an override, the variable.

Secret values (``cache.redis_url``, which carries the AUTH password, ``security.encryption_key`` and
``security.jwt_secret``) may be references instead: ``ssm:/path`` (SSM SecureString), ``secretsmanager:name`` or
a Secrets Manager ARN. They are fetched when first used (``resolve_secret``), cached like every secret, and
never logged.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, field_validator
from pydantic import ValidationError as PydanticValidationError

from pagerduty_utils import secrets
from pagerduty_utils.config_parser.interpolation import interpolate, join_path
from pagerduty_utils.exceptions import ConfigurationError
from pagerduty_utils.jwt_tokens import SigningKeys, TokenAuthority, TokenPolicy, signing_keys_from

CONFIG_PATH_VARIABLE = "PAGERDUTY_UTILS_CONFIG"
SECRETS_MANAGER_PREFIX = "secretsmanager:"
_SECRETS_MANAGER_ARN_PREFIX = "arn:aws:secretsmanager:"
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
MAX_FILE_CHARS = 64 * 1024

ENVIRONMENT_OVERRIDES: dict[str, tuple[str, ...]] = {
    "PAGERDUTY_READ_TIMEOUT_SECONDS": ("pagerduty", "api_timeout"),
    "PAGERDUTY_RETRY_ATTEMPTS": ("pagerduty", "retry_attempts"),
    "CIRCUIT_FAILURE_THRESHOLD": ("pagerduty", "circuit_breaker", "failure_threshold"),
    "CIRCUIT_RECOVERY_SECONDS": ("pagerduty", "circuit_breaker", "recovery_timeout"),
    "CACHE_REDIS_URL": ("cache", "redis_url"),
    "CACHE_DEFAULT_TTL_SECONDS": ("cache", "default_ttl"),
    "STATE_TABLE_NAME": ("state_table",),
    "ENCRYPTION_KEY": ("security", "encryption_key"),
    "JWT_SECRET": ("security", "jwt_secret"),
}
"""Environment variable -> the key it overrides. Empty variables are ignored, as if unset."""


def is_secret_reference(value: str) -> bool:
    return value.startswith((secrets.SSM_PREFIX, SECRETS_MANAGER_PREFIX, _SECRETS_MANAGER_ARN_PREFIX))


def resolve_secret(value: str, *, max_age: int = 300) -> str:
    """``value`` itself, or the secret it refers to (``ssm:/path``, ``secretsmanager:name``, an ARN)."""
    if not is_secret_reference(value):
        return value
    return secrets.get_secret(value.removeprefix(SECRETS_MANAGER_PREFIX), max_age=max_age)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CircuitBreakerOptions(_Section):
    failure_threshold: PositiveInt = 5
    recovery_timeout: PositiveInt = 60


class PagerDutyOptions(_Section):
    api_timeout: PositiveFloat = 10.0
    retry_attempts: int = Field(default=3, ge=1, le=10)
    circuit_breaker: CircuitBreakerOptions = CircuitBreakerOptions()


class CacheOptions(_Section):
    redis_url: str | None = None
    default_ttl: PositiveInt = 300

    @field_validator("redis_url")
    @classmethod
    def _redis_url_or_reference(cls, value: str | None) -> str | None:
        if value is None or value.startswith(_REDIS_SCHEMES) or is_secret_reference(value):
            return value
        raise ValueError("must be a redis://, rediss:// or unix:// URL, or a secret reference (ssm:/..., ARN)")


class SecurityOptions(_Section):
    encryption_key: str | None = Field(default=None, min_length=1)
    jwt_secret: str | None = Field(default=None, min_length=1)


class UtilsConfig(_Section):
    """The whole file; every section and key is optional.

    ``state_table`` (or ``STATE_TABLE_NAME``) is the DynamoDB table that shares cache entries (when no Redis URL
    is set) and circuit state between processes; without it both stay in the process.
    """

    state_table: str | None = Field(default=None, min_length=3)
    pagerduty: PagerDutyOptions = PagerDutyOptions()
    cache: CacheOptions = CacheOptions()
    security: SecurityOptions = SecurityOptions()


def load_utils_config(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None) -> UtilsConfig:
    """Read, interpolate, override from the environment and validate; ``environ`` defaults to ``os.environ``."""
    environ = os.environ if environ is None else environ
    location = path or environ.get(CONFIG_PATH_VARIABLE) or None
    document = f"configuration file {str(location)!r}" if location else "configuration"
    raw = _read(Path(location), environ, document) if location else {}
    applied = _apply_overrides(raw, environ)
    try:
        return UtilsConfig.model_validate(raw)
    except PydanticValidationError as exc:
        raise ConfigurationError(f"{document}: {_describe(exc, applied)}") from None


_current: UtilsConfig | None = None
_current_lock = threading.Lock()


def configure(path: str | Path | None = None, *, config: UtilsConfig | None = None) -> UtilsConfig:
    """Pin ``config``, or the file at ``path``, as the process's configuration (``utils_config``)."""
    global _current  # noqa: PLW0603  # one pinned configuration per process, like a container's settings
    chosen = config or load_utils_config(path)
    with _current_lock:
        _current = chosen
    return chosen


def utils_config() -> UtilsConfig:
    """The pinned configuration, else the one the environment gives now (``PAGERDUTY_UTILS_CONFIG``, overrides).

    Objects built without explicit settings (``PagerDutyAPIClient()``, ``SecurityManager()``, a circuit) read it
    when they are built, so they are built once per container like every client.
    """
    with _current_lock:
        pinned = _current
    return pinned if pinned is not None else load_utils_config()


def reset_config() -> None:
    """Unpin the configuration: ``utils_config()`` reads the environment again."""
    global _current  # noqa: PLW0603
    with _current_lock:
        _current = None


class ConfiguredSigningKeys(SigningKeys):
    """JWT keys from ``security.jwt_secret``: one key, or a JSON list of keys (newest first), or a reference."""

    def __init__(self, security: SecurityOptions, *, max_age: int = 300) -> None:
        self._security = security
        self._max_age = max_age

    def active(self) -> tuple[bytes, ...]:
        if self._security.jwt_secret is None:
            raise ConfigurationError("security.jwt_secret is not configured (set it in the file or JWT_SECRET)")
        value = resolve_secret(self._security.jwt_secret, max_age=self._max_age)
        source = "security.jwt_secret"
        if value.lstrip().startswith("["):
            try:
                return signing_keys_from(json.loads(value), source=source)
            except json.JSONDecodeError:
                raise ConfigurationError(f"{source}: a list of keys must be valid JSON") from None
        return signing_keys_from([value], source=source)


def token_authority(policy: TokenPolicy, config: UtilsConfig | None = None) -> TokenAuthority:
    """Issue and verify JWTs with the configured ``security.jwt_secret``."""
    return TokenAuthority(ConfiguredSigningKeys((config or utils_config()).security), policy)


def _read(path: Path, environ: Mapping[str, str], document: str) -> dict[str, Any]:
    from pagerduty_utils.config_parser.yaml_document import load_yaml_document  # noqa: PLC0415  # PyYAML when a file is used

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{document}: cannot read it: {exc}") from None
    if len(text) > MAX_FILE_CHARS:
        raise ConfigurationError(f"{document}: larger than {MAX_FILE_CHARS} characters")
    try:
        parsed = load_yaml_document(text, document=document)
    except RecursionError:
        raise ConfigurationError(f"{document}: the document nests too deeply") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise ConfigurationError(f"{document}: must be a mapping with 'pagerduty', 'cache' and/or 'security'")
    interpolated: dict[str, Any] = interpolate(parsed, environ, document=document)
    return interpolated


def _apply_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """Put each set override variable's value at its key; the keys replaced, with their variable."""
    applied = {}
    for variable, key_path in ENVIRONMENT_OVERRIDES.items():
        value = environ.get(variable)
        if not value:
            continue
        section = raw
        for key in key_path[:-1]:
            section = section.setdefault(key, {})
            if not isinstance(section, dict):
                break  # the file's section has the wrong type: validation reports it
        else:
            section[key_path[-1]] = value
            applied[key_path] = variable
    return applied


def _describe(exc: PydanticValidationError, applied: Mapping[tuple[str, ...], str]) -> str:
    """``path: message`` per error (values left out: they may be secrets), naming the variable of an override."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        location = tuple(str(part) for part in error["loc"])
        path = ""
        for part in location:
            path = join_path(path, part)
        variable = applied.get(location)
        origin = f" (from {variable})" if variable else ""
        problems.append(f"{path or '(root)'}{origin}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)
