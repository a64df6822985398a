"""Builds the receiver's dependencies from its settings: the one place that knows the real adapters.

AWS clients (the secrets' providers included) get short timeouts and at most one retry, because PagerDuty waits
only 5 seconds for an answer: a slow dependency should turn into a quick 5xx (PagerDuty retries) rather than a
timeout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import boto3
from botocore.config import Config

from pagerduty_utils import secrets
from pagerduty_utils.audit_logger import audit_logger
from pagerduty_utils.jwt_tokens import SecretSigningKeys, TokenAuthority
from pagerduty_utils.metrics_collector import metrics_collector
from pagerduty_utils.settings import ReceiverSettings
from pagerduty_utils.webhook_processor.event_publisher import EventBridgePublisher, SnsNotificationPublisher
from pagerduty_utils.webhook_processor.health_access import HEALTH_TOKEN_POLICY, HealthAccess
from pagerduty_utils.webhook_processor.health_snapshot import DynamoDBHealthSnapshotReader, HealthSnapshotReader
from pagerduty_utils.webhook_processor.incident_state import DynamoDBWebhookStateStore
from pagerduty_utils.webhook_processor.processing import MetricsCounter, ReceiverPolicy, WebhookProcessor
from pagerduty_utils.webhook_processor.signature import SecretsManagerWebhookSecrets

AWS_CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 2})


@dataclass(frozen=True)
class ReceiverDependencies:
    processor: WebhookProcessor
    health: HealthSnapshotReader
    max_body_bytes: int
    # Default: no key set, so ``GET /health`` serves the status alone.
    health_access: HealthAccess = field(default_factory=lambda: HealthAccess(None, audit=audit_logger))


def build_dependencies(
    settings: ReceiverSettings,
    *,
    metrics: MetricsCounter = metrics_collector,
    session: boto3.session.Session | None = None,
) -> ReceiverDependencies:
    """The production dependencies; every AWS client comes from ``session`` (a new one by default)."""
    session = session or boto3.session.Session()
    dynamodb = session.client("dynamodb", config=AWS_CLIENT_CONFIG)
    secret_ids = [settings.webhook_secrets_secret_id, settings.health_token_secret_id]
    secrets.prepare([secret_id for secret_id in secret_ids if secret_id], session=session, config=AWS_CLIENT_CONFIG)
    notifier = None
    if settings.notification_topic_arn:
        notifier = SnsNotificationPublisher(
            settings.notification_topic_arn, client=session.client("sns", config=AWS_CLIENT_CONFIG)
        )
    policy = ReceiverPolicy(
        replay_window_seconds=settings.replay_window_seconds, lease_seconds=settings.processing_lease_seconds
    )
    processor = WebhookProcessor(
        secrets=SecretsManagerWebhookSecrets(
            settings.webhook_secrets_secret_id, max_age=settings.secrets_cache_seconds
        ),
        store=DynamoDBWebhookStateStore(
            settings.state_table_name,
            client=dynamodb,
            lease_seconds=settings.processing_lease_seconds,
            dedup_retention_seconds=policy.done_retention_seconds,
            incident_retention_seconds=settings.incident_state_retention_seconds,
        ),
        publisher=EventBridgePublisher(
            settings.event_bus_name, client=session.client("events", config=AWS_CLIENT_CONFIG)
        ),
        notifier=notifier,
        policy=policy,
        audit=audit_logger,
        metrics=metrics,
    )
    return ReceiverDependencies(
        processor=processor,
        health=DynamoDBHealthSnapshotReader(settings.state_table_name, client=dynamodb),
        max_body_bytes=settings.max_body_bytes,
        health_access=HealthAccess(_health_tokens(settings), audit=audit_logger),
    )


def _health_tokens(settings: ReceiverSettings) -> TokenAuthority | None:
    if not settings.health_token_secret_id:
        return None
    keys = SecretSigningKeys(settings.health_token_secret_id, max_age=settings.secrets_cache_seconds)
    return TokenAuthority(keys, HEALTH_TOKEN_POLICY)
