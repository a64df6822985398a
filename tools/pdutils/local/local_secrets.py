"""Secret values for a local stack, so that every function finds the secrets its settings name.

The variables are the settings' aliases (``pagerduty_utils.settings``): the routing keys (a JSON object of
routing key names to keys; every name the routing rules use gets the local key), the webhook signing secrets
(a JSON list: the local secret, or the one ``pdutils start --webhook-secret`` sets), the REST API token (the
simulator's) and the keys of the health report's bearer tokens (a JSON list with the stack's own key). The
well-known values are documented in docs/local.md; none is ever used outside the embedded AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from pdutils.local.target import AwsTarget

LOCAL_WEBHOOK_SECRET = "local-webhook-secret"  # noqa: S105  # nosec B105  # documented, local-only
LOCAL_ROUTING_KEY = "pdutils-local-routing-key-000001"  # 32 characters, like a real integration key
DEFAULT_ROUTING_KEY_NAME = "default"
SSM_PREFIX = "ssm:"
HEALTH_TOKEN_VARIABLE = "HEALTH_TOKEN_SECRET_ID"  # noqa: S105  # nosec B105  # a variable name


def local_secret_values(
    environment: Mapping[str, str],
    *,
    api_token: str,
    webhook_secret: str = LOCAL_WEBHOOK_SECRET,
    health_token_key: str | None = None,
) -> dict[str, str]:
    """Secret reference -> value, for the secrets named in one function's environment.

    ``health_token_key`` (at least 32 bytes) is stored only when given; without it the health token secret
    is left to whoever named it."""
    values: dict[str, str] = {}
    if reference := environment.get("ROUTING_KEYS_SECRET_ID"):
        names = {DEFAULT_ROUTING_KEY_NAME, *routing_key_names(environment.get("ROUTING_RULES"))}
        values[reference] = json.dumps(dict.fromkeys(sorted(names), LOCAL_ROUTING_KEY))
    if reference := environment.get("WEBHOOK_SECRETS_SECRET_ID"):
        values[reference] = json.dumps([webhook_secret])
    if reference := environment.get("PAGERDUTY_API_TOKEN_SECRET_ID"):
        values[reference] = api_token
    if health_token_key and (reference := environment.get(HEALTH_TOKEN_VARIABLE)):
        values[reference] = json.dumps([health_token_key])
    return values


def routing_key_names(rules_document: str | None) -> set[str]:
    """Every ``routing_key`` name a routing rules document (JSON or YAML) mentions."""
    if not rules_document:
        return set()
    try:
        document = yaml.safe_load(rules_document)
    except yaml.YAMLError:
        return set()
    return set(_routing_keys_in(document))


def _routing_keys_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "routing_key" and isinstance(value, str):
                yield value
            else:
                yield from _routing_keys_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _routing_keys_in(item)


def store_secret(target: AwsTarget, reference: str, value: str) -> None:
    """Create or overwrite the secret ``reference`` (Secrets Manager name/ARN, or ``ssm:/parameter``)."""
    if reference.startswith(SSM_PREFIX):
        target.client("ssm").put_parameter(
            Name=reference.removeprefix(SSM_PREFIX), Value=value, Type="SecureString", Overwrite=True
        )
        return
    secretsmanager = target.client("secretsmanager")
    try:
        secretsmanager.put_secret_value(SecretId=reference, SecretString=value)
    except secretsmanager.exceptions.ResourceNotFoundException:
        secretsmanager.create_secret(Name=reference, SecretString=value)
