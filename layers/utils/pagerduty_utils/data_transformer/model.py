"""The normalized alert, the transform options, and the PagerDuty event an alert becomes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from pagerduty_utils.pagerduty_events import AlertEvent, AlertPayload, ChangeEvent, EventAction, Image, Link, Severity


class AlertSource(StrEnum):
    CLOUDWATCH_ALARM = "cloudwatch_alarm"
    GUARDDUTY = "guardduty"
    SECURITY_HUB = "security_hub"
    HEALTH = "health"
    CUSTOM = "custom"
    SNS = "sns"  # a plain-text or unrecognised JSON message published to an SNS topic
    EVENTBRIDGE = "eventbridge"  # an EventBridge event of a type without a model of its own
    STEP_FUNCTIONS = "step_functions"
    GLUE = "glue"
    BACKUP = "backup"
    CODEPIPELINE = "codepipeline"
    CODEBUILD = "codebuild"
    CODEDEPLOY = "codedeploy"
    CLOUDFORMATION = "cloudformation"
    ECS = "ecs"
    RDS = "rds"
    AUTOSCALING = "autoscaling"
    INSPECTOR = "inspector"
    CONFIG = "config"
    SIGNIN = "signin"  # console sign-ins and root activity, as CloudTrail reports them


class NormalizedAlert(BaseModel):
    """One alert from any source, ready for routing and for rendering as a PagerDuty event or a notification.

    ``name`` is what routing rules' ``name`` patterns match: the alarm name, the GuardDuty finding type, the
    Security Hub generator id, the AWS Health event type code, the custom event's summary, the SNS topic name.
    ``occurred_at`` is the source's own time of the change; the delivery side orders events by it.
    ``change`` marks a completed change (a deployment, a stack update): it goes to PagerDuty as a change event
    unless a routing rule says otherwise. ``succeeded`` marks a message whose words report success (generic
    sources): a routing rule that groups such messages resolves the group's alert with it.
    """

    model_config = ConfigDict(frozen=True)

    source: AlertSource
    action: EventAction
    dedup_key: str = Field(min_length=1)
    occurred_at: AwareDatetime
    name: str
    account: str | None = None
    region: str | None = None
    resource_tags: dict[str, str] = Field(default_factory=dict)
    resources: tuple[str, ...] = ()
    payload: AlertPayload
    links: tuple[Link, ...] = ()
    images: tuple[Image, ...] = ()
    client: str | None = None
    client_url: str | None = None
    change: bool = False
    succeeded: bool = False


@dataclass(frozen=True)
class TransformOptions:
    """Choices the mapping leaves to the operator (``INSUFFICIENT_DATA_ACTION`` in the forwarder's settings), and
    where the message came from.

    ``unverified_channel`` names the channel when it does not prove the AWS source a document claims (the caller
    decides; the forwarder's ``alert_forwarder.intake.ChannelTrust``): service-shaped alerts from it become custom
    alerts of that channel (``provenance.as_claimed``). None: the caller vouches for the source.
    """

    insufficient_data_action: Literal["ignore", "trigger", "resolve"] = "ignore"
    unverified_channel: str | None = None


DEFAULT_OPTIONS = TransformOptions()


def to_alert_event(alert: NormalizedAlert, *, routing_key: str, severity: Severity | None = None) -> AlertEvent:
    """The Events API v2 event for ``alert``; ``severity`` (a routing override) replaces the source's severity.

    Only triggers carry a payload, links, images and client: PagerDuty ignores them on acknowledge and resolve.
    """
    if alert.action is not EventAction.TRIGGER:
        return AlertEvent(
            routing_key=routing_key, event_action=alert.action, dedup_key=alert.dedup_key, occurred_at=alert.occurred_at
        )
    payload = alert.payload if severity is None else alert.payload.model_copy(update={"severity": severity})
    return AlertEvent(
        routing_key=routing_key,
        event_action=alert.action,
        dedup_key=alert.dedup_key,
        payload=payload,
        client=alert.client,
        client_url=alert.client_url,
        links=alert.links,
        images=alert.images,
        occurred_at=alert.occurred_at,
    )


def to_change_event(alert: NormalizedAlert, *, routing_key: str) -> ChangeEvent:
    """The Events API v2 change event for ``alert``: what changed, where, when, with the source's details."""
    return ChangeEvent(
        routing_key=routing_key,
        summary=alert.payload.summary,
        source=alert.payload.source,
        timestamp=alert.occurred_at,
        custom_details=alert.payload.custom_details,
        links=alert.links,
    )
