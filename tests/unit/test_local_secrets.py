"""The secret values a local stack stores for the secrets its functions' settings name."""

from __future__ import annotations

import json

from pdutils.local.local_secrets import LOCAL_ROUTING_KEY, LOCAL_WEBHOOK_SECRET, local_secret_values, routing_key_names

RULES_YAML = """
rules:
  - name: security
    match: {source: aws.guardduty}
    routing_key: security
  - name: everything else
    routing_key: ops
"""


def test_every_routing_key_name_the_rules_use_gets_the_local_key() -> None:
    values = local_secret_values(
        {"ROUTING_KEYS_SECRET_ID": "pd/routing-keys", "ROUTING_RULES": RULES_YAML}, api_token="token"
    )

    keys = json.loads(values["pd/routing-keys"])
    assert keys == {"default": LOCAL_ROUTING_KEY, "ops": LOCAL_ROUTING_KEY, "security": LOCAL_ROUTING_KEY}
    assert len(LOCAL_ROUTING_KEY) == 32


def test_webhook_secrets_and_the_api_token() -> None:
    values = local_secret_values(
        {"WEBHOOK_SECRETS_SECRET_ID": "pd/webhook", "PAGERDUTY_API_TOKEN_SECRET_ID": "ssm:/pd/token"}, api_token="t0k"
    )

    assert values == {"pd/webhook": json.dumps([LOCAL_WEBHOOK_SECRET]), "ssm:/pd/token": "t0k"}


def test_a_function_that_names_no_secret_gets_none() -> None:
    assert local_secret_values({"STATE_TABLE_NAME": "t"}, api_token="t") == {}


def test_unreadable_rules_name_no_routing_key() -> None:
    assert routing_key_names("rules: [unclosed") == set()
    assert routing_key_names(None) == set()


def test_a_chosen_webhook_secret_and_the_stacks_health_token_key() -> None:
    environment = {"WEBHOOK_SECRETS_SECRET_ID": "pd/webhook", "HEALTH_TOKEN_SECRET_ID": "pd/health-token-keys"}

    values = local_secret_values(environment, api_token="t", webhook_secret="s3cret", health_token_key="k" * 43)

    assert values == {"pd/webhook": json.dumps(["s3cret"]), "pd/health-token-keys": json.dumps(["k" * 43])}
    assert "pd/health-token-keys" not in local_secret_values(environment, api_token="t")
