"""Secrets from Secrets Manager or SSM SecureString (both under KMS), through Powertools Parameters.

A secret reference is a Secrets Manager name or ARN, or ``ssm:/path/to/parameter`` for an SSM SecureString.
Values are cached per container for ``max_age`` seconds. Values are never logged: errors name the reference,
not the content.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import ConfigurationError, DependencyError

SSM_PREFIX = "ssm:"

# Error codes that mean the reference or its permissions are wrong: retrying will not help.
_CONFIGURATION_ERROR_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "ParameterNotFound",
        "AccessDeniedException",
        "AccessDenied",
        "DecryptionFailure",
        "KMSAccessDeniedException",
        "InvalidRequestException",
        "ValidationException",
    }
)


def get_secret(reference: str, *, max_age: int = 300) -> str:
    """Return the secret's string value, fetched at most once per ``max_age`` seconds per container."""
    try:
        if reference.startswith(SSM_PREFIX):
            value = parameters.get_parameter(reference.removeprefix(SSM_PREFIX), decrypt=True, max_age=max_age)
        else:
            value = parameters.get_secret(reference, max_age=max_age)
    except parameters.exceptions.GetParameterError as exc:
        raise _classify(reference, exc) from None
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"secret {reference!r} is empty or not a string")
    return value


def get_secret_json(reference: str, *, max_age: int = 300) -> Any:
    """Return the secret parsed as JSON; a value that is not JSON is a configuration error."""
    raw = get_secret(reference, max_age=max_age)
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigurationError(f"secret {reference!r} is not valid JSON") from None


def clear_cache() -> None:
    """Forget cached values (tests, and after a rotation is known to have happened)."""
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves this one unannotated


def _classify(reference: str, exc: Exception) -> ConfigurationError | DependencyError:
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ClientError):
        code = cause.response.get("Error", {}).get("Code", "")
        if code in _CONFIGURATION_ERROR_CODES:
            return ConfigurationError(f"secret {reference!r} cannot be read: {code}")
        return DependencyError(f"secret {reference!r} could not be fetched: {code or 'error'}")
    if isinstance(cause, BotoCoreError):
        return DependencyError(f"secret {reference!r} could not be fetched: {type(cause).__name__}")
    return DependencyError(f"secret {reference!r} could not be fetched")
