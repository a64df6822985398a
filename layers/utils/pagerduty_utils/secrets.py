"""Secrets from Secrets Manager or SSM SecureString (both under KMS), through Powertools Parameters.

A secret reference is a Secrets Manager name or ARN, or ``ssm:/path/to/parameter`` for an SSM SecureString.
Values are cached per container for ``max_age`` seconds. Values are never logged: errors name the reference,
not the content.

Each kind of reference has one provider per container. A builder calls ``prepare`` with its session and client
configuration, so the clients exist before the first read (in Lambda, builders run during Init: ``init_phase``)
and use the caller's timeouts; otherwise the first read creates the provider with a session of its own.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import ConfigurationError, DependencyError

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

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


ProviderT = TypeVar("ProviderT", parameters.SecretsProvider, parameters.SSMProvider)

_providers: dict[type[parameters.BaseProvider], parameters.BaseProvider] = {}
_providers_lock = threading.Lock()  # the health checker reads secrets from several threads at once


def prepare(
    references: Iterable[str], *, session: boto3.session.Session | None = None, config: Config | None = None
) -> None:
    """Create now, on ``session`` with ``config``, the providers that will read ``references``.

    The first call for a kind of reference wins; the values are still fetched on first read.
    """
    for reference in references:
        _provider_for(reference, session, config)


def get_secret(reference: str, *, max_age: int = 300) -> str:
    """Return the secret's string value, fetched at most once per ``max_age`` seconds per container."""
    provider = _provider_for(reference)
    try:
        if isinstance(provider, parameters.SSMProvider):
            value = provider.get(reference.removeprefix(SSM_PREFIX), decrypt=True, max_age=max_age)
        else:
            value = provider.get(reference, max_age=max_age)
    except parameters.exceptions.GetParameterError as exc:
        raise _classify(reference, exc) from None
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"secret {reference!r} is empty or not a string")
    return value


def confirm_exists(reference: str) -> None:
    """Raise unless the secret exists and is not scheduled for deletion, reading its metadata only.

    This is how a component proves a secret is in place without being allowed to read a value it does not use
    (``secretsmanager:DescribeSecret``; ``ssm:DescribeParameters`` for ``ssm:`` references). It does not prove
    that the value decrypts: only the functions that read it can.
    """
    provider = _provider_for(reference)
    try:
        if isinstance(provider, parameters.SSMProvider):
            name = reference.removeprefix(SSM_PREFIX)
            found = provider.client.describe_parameters(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
            )["Parameters"]
            if not found:
                raise ConfigurationError(f"secret {reference!r} cannot be read: ParameterNotFound")
        elif "DeletedDate" in provider.client.describe_secret(SecretId=reference):
            raise ConfigurationError(f"secret {reference!r} is scheduled for deletion")
    except (ClientError, BotoCoreError) as exc:
        raise _classify(reference, exc) from None


def get_secret_json(reference: str, *, max_age: int = 300) -> Any:
    """Return the secret parsed as JSON; a value that is not JSON is a configuration error."""
    raw = get_secret(reference, max_age=max_age)
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigurationError(f"secret {reference!r} is not valid JSON") from None


def clear_cache() -> None:
    """Forget cached values and providers (tests, and after a rotation is known to have happened)."""
    with _providers_lock:
        _providers.clear()


def _provider_for(
    reference: str, session: boto3.session.Session | None = None, config: Config | None = None
) -> parameters.SecretsProvider | parameters.SSMProvider:
    if reference.startswith(SSM_PREFIX):
        return _provider(parameters.SSMProvider, session, config)
    return _provider(parameters.SecretsProvider, session, config)


def _provider(kind: type[ProviderT], session: boto3.session.Session | None, config: Config | None) -> ProviderT:
    with _providers_lock:
        provider = _providers.get(kind)
        if provider is None:
            provider = _providers[kind] = kind(boto3_session=session, boto_config=config)
    return cast("ProviderT", provider)


def _classify(reference: str, exc: Exception) -> ConfigurationError | DependencyError:
    """Classify an AWS error, raised directly or as the cause of a Powertools ``GetParameterError``."""
    cause = exc if isinstance(exc, ClientError | BotoCoreError) else exc.__cause__ or exc.__context__
    if isinstance(cause, ClientError):
        code = cause.response.get("Error", {}).get("Code", "")
        if code in _CONFIGURATION_ERROR_CODES:
            return ConfigurationError(f"secret {reference!r} cannot be read: {code}")
        return DependencyError(f"secret {reference!r} could not be fetched: {code or 'error'}")
    if isinstance(cause, BotoCoreError):
        return DependencyError(f"secret {reference!r} could not be fetched: {type(cause).__name__}")
    return DependencyError(f"secret {reference!r} could not be fetched")
