"""Build the checks and the monitor from ``HealthSettings``: what the handler and ``pdutils health`` share.

AWS clients are created on the calling thread (a boto3 session is not thread-safe; its clients are), with short
timeouts and a single retry: a health probe that waits out a slow dependency is a wrong probe. The checks'
clients are created here, once; the operations topic's SNS client at the first announcement (also on the
calling thread: ``HealthMonitor.run`` announces after the checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from pagerduty_utils import secrets
from pagerduty_utils.api_client.transport import Timeouts, tls_context
from pagerduty_utils.health_monitor.checks.circuits import CircuitsCheck
from pagerduty_utils.health_monitor.checks.kms_key import KmsKeyCheck
from pagerduty_utils.health_monitor.checks.pagerduty import (
    AbilitiesProbe,
    EventsReachabilityCheck,
    PagerDutyRestCheck,
    RestClientAbilitiesProbe,
)
from pagerduty_utils.health_monitor.checks.queues import QueueCheck, QueueThresholds
from pagerduty_utils.health_monitor.checks.secrets_access import SecretsCheck
from pagerduty_utils.health_monitor.checks.state_table import StateTableCheck
from pagerduty_utils.health_monitor.monitor import HealthMonitor
from pagerduty_utils.health_monitor.operations import OperationsChannel, SnsOperationsChannel
from pagerduty_utils.health_monitor.report import HealthStatus
from pagerduty_utils.health_monitor.runner import HealthCheck
from pagerduty_utils.health_monitor.snapshot import DynamoDBSnapshotStore
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.settings import HealthSettings
from pagerduty_utils.state_table import circuit_key_for_url

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class HealthDependencies:
    """Outbound dependencies a test or the CLI may replace; anything left None is built from settings."""

    session: boto3.session.Session | None = None
    abilities_probe: AbilitiesProbe | None = None
    operations: OperationsChannel | None = None
    metrics: MetricsCollector | None = None


def build_checks(settings: HealthSettings, dependencies: HealthDependencies | None = None) -> list[HealthCheck]:
    """Every check the settings call for: queues and the KMS key only when configured."""
    dependencies = dependencies or HealthDependencies()
    session = dependencies.session or boto3.session.Session()
    config = _probe_config(settings)
    return _checks(settings, dependencies, session, config, session.client("dynamodb", config=config))


def build_monitor(settings: HealthSettings, dependencies: HealthDependencies | None = None) -> HealthMonitor:
    dependencies = dependencies or HealthDependencies()
    session = dependencies.session or boto3.session.Session()
    config = _probe_config(settings)
    dynamodb = session.client("dynamodb", config=config)  # one client for the table checks and the snapshots
    secrets.prepare([settings.api_token_secret_id, *settings.secret_id_list], session=session, config=config)
    operations = dependencies.operations
    if operations is None and settings.operations_topic_arn:
        operations = SnsOperationsChannel(
            settings.operations_topic_arn, cache(lambda: session.client("sns", config=config))
        )
    return HealthMonitor(
        _checks(settings, dependencies, session, config, dynamodb),
        deadline_seconds=settings.deadline_seconds,
        snapshots=DynamoDBSnapshotStore(
            settings.state_table_name, dynamodb, lifetime_seconds=settings.snapshot_lifetime_seconds
        ),
        operations=operations,
        metrics=dependencies.metrics,
    )


def _checks(
    settings: HealthSettings,
    dependencies: HealthDependencies,
    session: boto3.session.Session,
    config: Config,
    dynamodb: DynamoDBClient,
) -> list[HealthCheck]:
    timeouts = Timeouts(connect=settings.http_connect_timeout, read=settings.deadline_seconds)
    probe = dependencies.abilities_probe or RestClientAbilitiesProbe(
        token_secret_id=settings.api_token_secret_id,
        api_base_url=settings.api_base_url,
        timeouts=timeouts,
        metrics=dependencies.metrics,
    )
    checks: list[HealthCheck] = [
        PagerDutyRestCheck(probe, api_base_url=settings.api_base_url),
        EventsReachabilityCheck(
            settings.events_base_url, connect_timeout=settings.http_connect_timeout, tls_context=tls_context()
        ),
        StateTableCheck(settings.state_table_name, dynamodb),
        CircuitsCheck(settings.state_table_name, dynamodb, [circuit_key_for_url(settings.events_base_url)]),
        SecretsCheck([settings.api_token_secret_id, *settings.secret_id_list]),
    ]
    if settings.kms_key_id:
        checks.append(KmsKeyCheck(settings.kms_key_id, session.client("kms", config=config)))
    return checks + _queue_checks(settings, session, config)


def _queue_checks(settings: HealthSettings, session: boto3.session.Session, config: Config) -> list[HealthCheck]:
    targets = [
        (
            "alert_queue",
            settings.alert_queue_url,
            QueueThresholds(
                max_depth=settings.queue_depth_threshold,
                max_age_seconds=settings.queue_age_threshold_seconds,
                breach_status=HealthStatus.DEGRADED,
            ),
        ),
        (
            "dead_letter_queue",
            settings.dead_letter_queue_url,
            QueueThresholds(
                max_depth=settings.dead_letter_depth_threshold,
                max_age_seconds=None,
                breach_status=HealthStatus.UNHEALTHY,
            ),
        ),
    ]
    configured = [(name, url, thresholds) for name, url, thresholds in targets if url]
    if not configured:
        return []
    sqs = session.client("sqs", config=config)
    cloudwatch = session.client("cloudwatch", config=config)
    return [QueueCheck(name, url, thresholds, sqs=sqs, cloudwatch=cloudwatch) for name, url, thresholds in configured]


def _probe_config(settings: HealthSettings) -> Config:
    return Config(
        connect_timeout=settings.http_connect_timeout,
        read_timeout=settings.deadline_seconds,
        retries={"mode": "standard", "total_max_attempts": 2},
    )
