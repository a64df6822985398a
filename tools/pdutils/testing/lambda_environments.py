"""Each handler's Lambda environment with dummy values, for programs that import a handler in a fresh interpreter.

What ``template.yaml`` gives each function (optional resources included) plus what Lambda sets itself.
``AWS_ENDPOINT_URL`` and the PagerDuty URLs point at the discard port, where nothing listens: importing a handler
builds its settings and clients but never calls anything. Used by the Init tests and by bench/bench_cold_start.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

CLOSED_LOCAL_PORT_URL = "http://127.0.0.1:9"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:"
DUMMY_CREDENTIAL = "dummy"
# Names in Secrets Manager, not values.
API_KEY_NAME = "pagerduty/api-token"
ROUTING_KEYS_NAME = "pagerduty/routing-keys"
WEBHOOK_KEYS_NAME = "pagerduty/webhook-secrets"
HEALTH_KEY_NAME = "pagerduty/health-token"

COMMON_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "PagerDutyIntegration",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIAL,
    "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIAL,
    "AWS_ENDPOINT_URL": CLOSED_LOCAL_PORT_URL,
    "STATE_TABLE_NAME": "pagerduty-state",
    "PAGERDUTY_API_URL": CLOSED_LOCAL_PORT_URL,
    "PAGERDUTY_EVENTS_URL": CLOSED_LOCAL_PORT_URL,
}


@dataclass(frozen=True)
class HandlerEnvironment:
    name: str
    """The function's directory under functions/."""
    builder: str
    """The handler module's cached builder of its dependencies."""
    environment: Mapping[str, str]
    """The function's own variables (COMMON_ENVIRONMENT comes first)."""

    def variables(self, *, in_lambda: bool = True) -> dict[str, str]:
        """All the variables; ``in_lambda`` adds those Lambda sets, which make the handler build during Init."""
        lambda_variables = {"AWS_LAMBDA_FUNCTION_NAME": self.name} if in_lambda else {}
        return {**COMMON_ENVIRONMENT, **self.environment, **lambda_variables}


HANDLER_ENVIRONMENTS = (
    HandlerEnvironment(
        "alert_forwarder",
        "_default_forwarder",
        {
            "POWERTOOLS_SERVICE_NAME": "alert-forwarder",
            "ROUTING_KEYS_SECRET_ID": ROUTING_KEYS_NAME,
            "ROUTING_RULES": '{"rules": [{"match": {"source": "guardduty"}, "routing_key": "security"}],'
            ' "default": {"routing_key": "default"}}',
            "DEAD_LETTER_QUEUE_URL": QUEUE_URL + "alerts-dlq",
        },
    ),
    HandlerEnvironment(
        "webhook_receiver",
        "_default_dependencies",
        {
            "POWERTOOLS_SERVICE_NAME": "webhook-receiver",
            "WEBHOOK_SECRETS_SECRET_ID": WEBHOOK_KEYS_NAME,
            "EVENT_BUS_NAME": "pagerduty-incidents",
            "NOTIFICATION_TOPIC_ARN": TOPIC_ARN + "incident-notifications",
            "HEALTH_TOKEN_SECRET_ID": HEALTH_KEY_NAME,
        },
    ),
    HandlerEnvironment(
        "health_checker",
        "_default_monitor",
        {
            "POWERTOOLS_SERVICE_NAME": "health-checker",
            "PAGERDUTY_API_TOKEN_SECRET_ID": API_KEY_NAME,
            "HEALTH_SECRET_IDS": ",".join((API_KEY_NAME, ROUTING_KEYS_NAME, WEBHOOK_KEYS_NAME)),
            "KMS_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000",
            "ALERT_QUEUE_URL": QUEUE_URL + "alerts",
            "DEAD_LETTER_QUEUE_URL": QUEUE_URL + "alerts-dlq",
            "OPERATIONS_TOPIC_ARN": TOPIC_ARN + "operations",
        },
    ),
)
