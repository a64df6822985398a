"""What kind of message this is: unwrap SQS and SNS envelopes and hand each event to its source's mapping.

Recognition runs from the outside in: an SQS record's body, an SNS record's notification, an SNS notification's
message, an EventBridge event's source and detail-type. A message of a known family whose fields are wrong is
rejected with the reason; a well-formed message of no known shape takes the generic path (``generic``), so it
still pages.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from pagerduty_utils.data_transformer.alarms import alarm_action_alerts, alarm_message_alerts, state_change_alerts
from pagerduty_utils.data_transformer.assembly import json_object
from pagerduty_utils.data_transformer.generic import generic_event_alert, generic_sns_alert, queue_message_alert
from pagerduty_utils.data_transformer.model import DEFAULT_OPTIONS, NormalizedAlert, TransformOptions
from pagerduty_utils.data_transformer.provenance import as_claimed
from pagerduty_utils.data_transformer.sources.base import parse_source
from pagerduty_utils.data_transformer.sources.sns import SnsNotification
from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.formatters import clean_text

MAX_MESSAGE_CHARS = 1024 * 1024  # above SQS's and EventBridge's own limits: anything larger is not an AWS event
_MAX_ENVELOPES = 4  # SQS record > SNS notification > EventBridge event > detail
_LAST_EPOCH_MS = 253_402_300_799_000  # 9999-12-31T23:59:59Z, the last time a datetime holds
_EVENTBRIDGE_ENVELOPE = frozenset({"version", "id", "detail-type", "source", "account", "time", "region", "detail"})

EventConverter = Callable[[Mapping[str, Any], TransformOptions], list[NormalizedAlert]]


def normalize(
    message: str | Mapping[str, Any], *, options: TransformOptions = DEFAULT_OPTIONS
) -> list[NormalizedAlert]:
    """The alerts one message stands for (several for a multi-finding Security Hub event, none when ignored)."""
    alerts = _from_document(_decode_object(message, what="message"), options, depth=0)
    if options.unverified_channel is None:
        return alerts
    return [as_claimed(alert, options.unverified_channel) for alert in alerts]


def _decode_object(message: Any, *, what: str) -> Mapping[str, Any]:
    if isinstance(message, str):
        _check_size(message, what=what)
        try:
            message = json.loads(message)
        except (ValueError, RecursionError) as exc:
            raise ValidationError(f"{what} is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(message, Mapping):
        raise ValidationError(f"{what} is not a JSON object")
    return message


def _check_size(text: str, *, what: str) -> None:
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValidationError(f"{what} is larger than {MAX_MESSAGE_CHARS} characters")


def _from_document(document: Mapping[str, Any], options: TransformOptions, *, depth: int) -> list[NormalizedAlert]:
    if depth >= _MAX_ENVELOPES:
        raise ValidationError("message nests envelopes too deeply")
    convert = _recognise(document)
    if convert is None:
        keys = ", ".join(sorted(clean_text(str(key), 40, single_line=True) for key in document)[:8])
        raise ValidationError(
            f"unrecognised message (keys: {keys or 'none'}): expected an SNS notification, an EventBridge event "
            "or a CloudWatch alarm notification"
        )
    return convert(document, options, depth)


DocumentConverter = Callable[[Mapping[str, Any], TransformOptions, int], list[NormalizedAlert]]


def _recognise(document: Mapping[str, Any]) -> DocumentConverter | None:
    """The converter of an envelope or event by its shape, or None when it has none of the known shapes."""
    return next((convert for has_shape, convert in _SHAPES if has_shape(document)), None)


def _is_eventbridge_event(document: Mapping[str, Any]) -> bool:
    """Whether ``document`` has every field of an EventBridge event's envelope (their values are checked by the
    mapping). A publisher's own JSON, or an input transformer's output, may have a ``detail-type`` and still be
    a generic message."""
    return _EVENTBRIDGE_ENVELOPE.issubset(document.keys())


def _whole_batch(_document: Mapping[str, Any], _options: TransformOptions, _depth: int) -> list[NormalizedAlert]:
    raise ValidationError("message is a whole batch: pass each of its Records separately")


def _from_sns_record(record: Mapping[str, Any], options: TransformOptions, depth: int) -> list[NormalizedAlert]:
    return _from_sns(_decode_object(record.get("Sns"), what="SNS record"), options, depth + 1)


def _from_alarm_action(document: Mapping[str, Any], options: TransformOptions, _depth: int) -> list[NormalizedAlert]:
    return alarm_action_alerts(document, options)


def _from_alarm_notification(
    document: Mapping[str, Any], options: TransformOptions, _depth: int
) -> list[NormalizedAlert]:
    return alarm_message_alerts(document, options, what="CloudWatch alarm notification")


def _from_sqs_record(record: Mapping[str, Any], options: TransformOptions, depth: int) -> list[NormalizedAlert]:
    """The body's envelope or event when it has a known shape; else the body is a generic queue message."""
    body = record.get("body")
    if not isinstance(body, str):
        raise ValidationError("SQS record body is not a string")
    _check_size(body, what="SQS record body")
    parsed = json_object(body)
    if parsed is not None and _recognise(parsed) is not None:
        return _from_document(parsed, options, depth=depth + 1)
    attributes = record.get("attributes")
    sent_ms = attributes.get("SentTimestamp") if isinstance(attributes, Mapping) else None
    if not (isinstance(sent_ms, str | int) and str(sent_ms).isdigit()):
        raise ValidationError("SQS record has no SentTimestamp to date its message by")
    message_id, queue_arn = record.get("messageId"), record.get("eventSourceARN")
    return [
        queue_message_alert(
            body,
            parsed,
            message_id=str(message_id) if message_id else None,
            queue_arn=str(queue_arn) if queue_arn else None,
            sent_at=datetime.fromtimestamp(min(int(sent_ms), _LAST_EPOCH_MS) / 1000, tz=UTC),
        )
    ]


def _from_sns(document: Mapping[str, Any], options: TransformOptions, depth: int) -> list[NormalizedAlert]:
    notification = parse_source(SnsNotification, document, what="SNS notification")
    inner = json_object(notification.message)
    if inner is not None and "AlarmName" in inner and "NewStateValue" in inner:
        return alarm_message_alerts(
            inner, options, what="CloudWatch alarm notification in SNS message", topic_arn=notification.topic_arn
        )
    if inner is not None and _is_eventbridge_event(inner):
        return _from_document(inner, options, depth=depth + 1)
    return [generic_sns_alert(notification, inner)]


def _from_eventbridge(document: Mapping[str, Any], options: TransformOptions, _depth: int) -> list[NormalizedAlert]:
    source, detail_type = document.get("source"), document.get("detail-type")
    if detail_type == "Application Alert":
        return _APPLICATION_ALERT(document, options)
    convert = AWS_EVENT_CONVERTERS.get((str(source), str(detail_type)))
    if convert is not None:
        return convert(document, options)
    if detail_type == CLOUDTRAIL_API_CALL and is_root_activity(document):
        return _ROOT_ACTIVITY(document, options)
    return [generic_event_alert(parse_source(EventBridgeModel, document, what="EventBridge event"))]


CLOUDTRAIL_API_CALL = "AWS API Call via CloudTrail"


def is_root_activity(document: Mapping[str, Any]) -> bool:
    """An API call made by the root user itself (not by an AWS service acting for it)."""
    detail = document.get("detail")
    identity = detail.get("userIdentity") if isinstance(detail, Mapping) else None
    return isinstance(identity, Mapping) and identity.get("type") == "Root" and not identity.get("invokedBy")


def _on_demand(module: str, name: str) -> EventConverter:
    """The converter ``name`` of mapping module ``module``, imported when its first event arrives: every source
    family but CloudWatch alarms (the forwarder's first and most frequent event) costs cold start only in a
    forwarder that receives it."""

    @cache
    def load() -> EventConverter:
        converter: EventConverter = getattr(importlib.import_module(f"{__package__}.{module}"), name)
        return converter

    def convert(document: Mapping[str, Any], options: TransformOptions) -> list[NormalizedAlert]:
        return load()(document, options)

    return convert


_APPLICATION_ALERT = _on_demand("messages", "application_alerts")
_ROOT_ACTIVITY = _on_demand("security", "root_activity_alerts")
_SECURITY_HUB = _on_demand("findings", "securityhub_alerts")
_AUTOSCALING = _on_demand("infrastructure", "autoscaling_alerts")
_ECS = _on_demand("infrastructure", "ecs_alerts")
_RDS = _on_demand("infrastructure", "rds_alerts")

AWS_EVENT_CONVERTERS: Mapping[tuple[str, str], EventConverter] = {
    ("aws.cloudwatch", "CloudWatch Alarm State Change"): state_change_alerts,
    ("aws.guardduty", "GuardDuty Finding"): _on_demand("findings", "guardduty_alerts"),
    ("aws.securityhub", "Security Hub Findings - Imported"): _SECURITY_HUB,
    ("aws.securityhub", "Security Hub Findings - Custom Action"): _SECURITY_HUB,
    ("aws.health", "AWS Health Event"): _on_demand("health", "health_alerts"),
    ("aws.states", "Step Functions Execution Status Change"): _on_demand("workflows", "step_functions_alerts"),
    ("aws.glue", "Glue Job State Change"): _on_demand("workflows", "glue_alerts"),
    ("aws.backup", "Backup Job State Change"): _on_demand("workflows", "backup_alerts"),
    ("aws.codepipeline", "CodePipeline Pipeline Execution State Change"): _on_demand(
        "deployments", "codepipeline_alerts"
    ),
    ("aws.codebuild", "CodeBuild Build State Change"): _on_demand("deployments", "codebuild_alerts"),
    ("aws.codedeploy", "CodeDeploy Deployment State-change Notification"): _on_demand(
        "deployments", "codedeploy_alerts"
    ),
    ("aws.cloudformation", "CloudFormation Stack Status Change"): _on_demand("deployments", "cloudformation_alerts"),
    ("aws.ecs", "ECS Task State Change"): _ECS,
    ("aws.ecs", "ECS Deployment State Change"): _ECS,
    ("aws.rds", "RDS DB Instance Event"): _RDS,
    ("aws.rds", "RDS DB Cluster Event"): _RDS,
    ("aws.autoscaling", "EC2 Instance Launch Unsuccessful"): _AUTOSCALING,
    ("aws.autoscaling", "EC2 Instance Terminate Unsuccessful"): _AUTOSCALING,
    ("aws.autoscaling", "EC2 Instance Launch Successful"): _AUTOSCALING,
    ("aws.autoscaling", "EC2 Instance Terminate Successful"): _AUTOSCALING,
    ("aws.inspector2", "Inspector2 Finding"): _on_demand("security", "inspector_alerts"),
    ("aws.config", "Config Rules Compliance Change"): _on_demand("security", "config_alerts"),
    ("aws.signin", "AWS Console Sign In via CloudTrail"): _on_demand("security", "signin_alerts"),
}
"""Modelled EventBridge events by (source, detail-type). Root activity is recognised by its identity instead:
CloudTrail reports it as "AWS API Call via CloudTrail" under the source of whichever service was called."""

_SHAPES: tuple[tuple[Callable[[Mapping[str, Any]], bool], DocumentConverter], ...] = (
    (lambda document: "Records" in document, _whole_batch),
    (lambda document: document.get("eventSource") == "aws:sqs", _from_sqs_record),
    (lambda document: document.get("EventSource") == "aws:sns", _from_sns_record),
    (lambda document: document.get("Type") == "Notification", _from_sns),
    (_is_eventbridge_event, _from_eventbridge),
    (lambda document: "alarmData" in document, _from_alarm_action),
    (lambda document: "AlarmName" in document, _from_alarm_notification),
)
"""Shapes in the order they are told apart: outer envelopes first (an SQS record, an SNS record or notification),
then the events they carry."""
