"""Typed settings read from the environment, one model per function.

Each handler validates its settings once per container: in Lambda during Init (``init_phase``), elsewhere on its
first invocation, so tests can set the environment first. A missing or invalid variable becomes a
``ConfigurationError`` naming the variable.
Secrets are never settings: settings hold only the *names* of Secrets Manager secrets or SSM parameters.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt
from pydantic import ValidationError as PydanticValidationError

from pagerduty_utils.exceptions import ConfigurationError

PAGERDUTY_HOSTS: dict[str, tuple[str, str]] = {
    # region: (REST API base URL, Events API base URL)
    "us": ("https://api.pagerduty.com", "https://events.pagerduty.com"),
    "eu": ("https://api.eu.pagerduty.com", "https://events.eu.pagerduty.com"),
}


class PagerDutySettings(BaseModel):
    """Where PagerDuty is and how patiently to talk to it: all a PagerDuty client needs, in any function.

    Field aliases are the environment variable names.
    """

    # defer_build: a function validates only its own settings class, so the others' validators are never built.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    pagerduty_region: Literal["us", "eu"] = Field("us", alias="PAGERDUTY_REGION")
    pagerduty_api_url: str | None = Field(None, alias="PAGERDUTY_API_URL", pattern=r"^https?://")
    pagerduty_events_url: str | None = Field(None, alias="PAGERDUTY_EVENTS_URL", pattern=r"^https?://")
    http_connect_timeout: PositiveFloat = Field(3.0, alias="PAGERDUTY_CONNECT_TIMEOUT_SECONDS")
    http_read_timeout: PositiveFloat = Field(10.0, alias="PAGERDUTY_READ_TIMEOUT_SECONDS")
    secrets_cache_seconds: PositiveInt = Field(300, alias="SECRETS_CACHE_SECONDS")

    @property
    def api_base_url(self) -> str:
        return (self.pagerduty_api_url or PAGERDUTY_HOSTS[self.pagerduty_region][0]).rstrip("/")

    @property
    def events_base_url(self) -> str:
        return (self.pagerduty_events_url or PAGERDUTY_HOSTS[self.pagerduty_region][1]).rstrip("/")


class CommonSettings(PagerDutySettings):
    """Settings every function of the stack shares: PagerDuty's plus the state table."""

    state_table_name: str = Field(alias="STATE_TABLE_NAME", min_length=3)


class ForwarderSettings(CommonSettings):
    """Alert forwarder: where routing keys and rules come from, and how hard to push PagerDuty."""

    routing_keys_secret_id: str = Field(alias="ROUTING_KEYS_SECRET_ID", min_length=1)
    routing_rules: str | None = Field(None, alias="ROUTING_RULES")
    routing_rules_file: str | None = Field(None, alias="ROUTING_RULES_FILE")
    dead_letter_queue_url: str | None = Field(None, alias="DEAD_LETTER_QUEUE_URL")
    rate_limit_per_minute: PositiveInt = Field(120, alias="RATE_LIMIT_PER_MINUTE")
    rate_limit_burst: PositiveInt | None = Field(None, alias="RATE_LIMIT_BURST")
    delivery_concurrency: PositiveInt = Field(10, le=50, alias="DELIVERY_CONCURRENCY")
    ledger_retention_days: PositiveInt = Field(14, alias="DELIVERY_LEDGER_RETENTION_DAYS")
    retry_max_backoff_seconds: PositiveInt = Field(900, le=43200, alias="RETRY_MAX_BACKOFF_SECONDS")
    circuit_failure_threshold: PositiveInt = Field(5, alias="CIRCUIT_FAILURE_THRESHOLD")
    circuit_recovery_seconds: PositiveInt = Field(60, alias="CIRCUIT_RECOVERY_SECONDS")
    insufficient_data_action: Literal["ignore", "trigger", "resolve"] = Field(
        "ignore", alias="INSUFFICIENT_DATA_ACTION"
    )
    # SNS topics only CloudWatch may publish to: their alarm notifications are trusted. AWS-shaped documents from
    # any other topic become custom alerts of that topic (alert_forwarder.intake.ChannelTrust).
    alarm_topic_arns: str = Field("", alias="ALARM_TOPIC_ARNS")

    @property
    def alarm_topic_arn_list(self) -> list[str]:
        return comma_separated(self.alarm_topic_arns)


class ReceiverSettings(CommonSettings):
    """Webhook receiver: secrets to verify with, replay window, where to fan out."""

    webhook_secrets_secret_id: str = Field(alias="WEBHOOK_SECRETS_SECRET_ID", min_length=1)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    notification_topic_arn: str | None = Field(None, alias="NOTIFICATION_TOPIC_ARN")
    max_body_bytes: PositiveInt = Field(256 * 1024, alias="WEBHOOK_MAX_BODY_BYTES")
    replay_window_seconds: PositiveInt = Field(6 * 3600, alias="WEBHOOK_REPLAY_WINDOW_SECONDS")
    # Longer than the function timeout: a claim outliving its invocation means that invocation crashed.
    processing_lease_seconds: PositiveInt = Field(30, alias="WEBHOOK_PROCESSING_LEASE_SECONDS")
    incident_state_retention_seconds: PositiveInt = Field(30 * 86400, alias="INCIDENT_STATE_RETENTION_SECONDS")
    # Keys of the tokens that unlock the full GET /health report; unset (or empty): only the status is served.
    health_token_secret_id: str | None = Field(None, alias="HEALTH_TOKEN_SECRET_ID")


class HealthSettings(CommonSettings):
    """Health checker: what to check and where to report when the overall status changes."""

    api_token_secret_id: str = Field(alias="PAGERDUTY_API_TOKEN_SECRET_ID", min_length=1)
    secret_ids: str = Field("", alias="HEALTH_SECRET_IDS")
    kms_key_id: str | None = Field(None, alias="KMS_KEY_ID")
    alert_queue_url: str | None = Field(None, alias="ALERT_QUEUE_URL")
    dead_letter_queue_url: str | None = Field(None, alias="DEAD_LETTER_QUEUE_URL")
    operations_topic_arn: str | None = Field(None, alias="OPERATIONS_TOPIC_ARN")
    queue_depth_threshold: PositiveInt = Field(100, alias="QUEUE_DEPTH_THRESHOLD")
    queue_age_threshold_seconds: PositiveInt = Field(300, alias="QUEUE_AGE_THRESHOLD_SECONDS")
    dead_letter_depth_threshold: int = Field(0, ge=0, alias="DEAD_LETTER_DEPTH_THRESHOLD")
    deadline_seconds: PositiveFloat = Field(10.0, alias="HEALTH_DEADLINE_SECONDS")
    snapshot_lifetime_seconds: PositiveInt = Field(900, alias="HEALTH_SNAPSHOT_TTL_SECONDS")

    @property
    def secret_id_list(self) -> list[str]:
        return comma_separated(self.secret_ids)


def comma_separated(value: str) -> list[str]:
    """The items of a comma-separated variable, blanks dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


SettingsT = TypeVar("SettingsT", bound=PagerDutySettings)


def load_settings(model: type[SettingsT], environ: Mapping[str, str] | None = None) -> SettingsT:
    """Validate ``environ`` (default: ``os.environ``) into ``model``; name every bad variable on failure."""
    source = dict(os.environ if environ is None else environ)
    try:
        return model.model_validate(source)
    except PydanticValidationError as exc:
        problems = []
        for error in exc.errors():
            variable = ".".join(str(part) for part in error["loc"]) or model.__name__
            problems.append(f"{variable}: {error['msg']}")
        raise ConfigurationError(f"invalid configuration for {model.__name__}: " + "; ".join(problems)) from None
