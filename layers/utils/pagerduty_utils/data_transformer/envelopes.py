"""What kind of message this is: unwrap SQS and SNS envelopes and hand each event to its source's mapping."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.parser.models import SnsNotificationModel

from pagerduty_utils.data_transformer.alarms import alarm_action_alerts, alarm_message_alerts, state_change_alerts
from pagerduty_utils.data_transformer.assembly import json_object
from pagerduty_utils.data_transformer.findings import guardduty_alerts, securityhub_alerts
from pagerduty_utils.data_transformer.health import health_alerts
from pagerduty_utils.data_transformer.messages import custom_alert, generic_sns_alert
from pagerduty_utils.data_transformer.model import DEFAULT_OPTIONS, NormalizedAlert, TransformOptions
from pagerduty_utils.data_transformer.provenance import as_claimed
from pagerduty_utils.data_transformer.sources.base import parse_source
from pagerduty_utils.data_transformer.sources.custom import CustomAlertEvent
from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.formatters import clean_text

MAX_MESSAGE_CHARS = 1024 * 1024  # above SQS's and EventBridge's own limits: anything larger is not an AWS event
_MAX_ENVELOPES = 4  # SQS record > SNS notification > EventBridge event > detail


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
        if len(message) > MAX_MESSAGE_CHARS:
            raise ValidationError(f"{what} is larger than {MAX_MESSAGE_CHARS} characters")
        try:
            message = json.loads(message)
        except (ValueError, RecursionError) as exc:
            raise ValidationError(f"{what} is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(message, Mapping):
        raise ValidationError(f"{what} is not a JSON object")
    return message


def _from_document(document: Mapping[str, Any], options: TransformOptions, *, depth: int) -> list[NormalizedAlert]:
    if depth >= _MAX_ENVELOPES:
        raise ValidationError("message nests envelopes too deeply")
    if "Records" in document:
        raise ValidationError("message is a whole batch: pass each of its Records separately")
    if document.get("eventSource") == "aws:sqs":
        return _from_document(_decode_object(document.get("body"), what="SQS record body"), options, depth=depth + 1)
    if document.get("EventSource") == "aws:sns":
        return _from_document(_decode_object(document.get("Sns"), what="SNS record"), options, depth=depth + 1)
    if document.get("Type") == "Notification":
        return _from_sns(document, options, depth=depth)
    if "detail-type" in document:
        return _from_eventbridge(document, options)
    if "alarmData" in document:
        return alarm_action_alerts(document, options)
    if "AlarmName" in document:
        return alarm_message_alerts(document, options, what="CloudWatch alarm notification")
    keys = ", ".join(sorted(clean_text(str(key), 40, single_line=True) for key in document)[:8])
    raise ValidationError(
        f"unrecognised message (keys: {keys or 'none'}): expected an SNS notification, an EventBridge event "
        "or a CloudWatch alarm notification"
    )


def _from_sns(document: Mapping[str, Any], options: TransformOptions, *, depth: int) -> list[NormalizedAlert]:
    # dict(): Powertools' model renames the SQS-style URL keys in place and must not change the caller's record.
    notification = parse_source(SnsNotificationModel, dict(document), what="SNS notification")
    message = str(notification.Message)
    inner = json_object(message)
    if inner is not None and "AlarmName" in inner and "NewStateValue" in inner:
        return alarm_message_alerts(inner, options, what="CloudWatch alarm notification in SNS message")
    if inner is not None and "detail-type" in inner:
        return _from_document(inner, options, depth=depth + 1)
    return [generic_sns_alert(notification, message, inner)]


def _from_eventbridge(document: Mapping[str, Any], options: TransformOptions) -> list[NormalizedAlert]:
    source, detail_type = document.get("source"), document.get("detail-type")
    if detail_type == "Application Alert":
        return [custom_alert(parse_source(CustomAlertEvent, document, what="Application Alert event"))]
    convert = _AWS_EVENT_CONVERTERS.get((str(source), str(detail_type)))
    if convert is None:
        shown = [clean_text(str(value), 80, single_line=True) for value in (source, detail_type)]
        raise ValidationError(f"unsupported EventBridge event: source {shown[0]!r}, detail-type {shown[1]!r}")
    return convert(document, options)


_AWS_EVENT_CONVERTERS: Mapping[
    tuple[str, str], Callable[[Mapping[str, Any], TransformOptions], list[NormalizedAlert]]
] = {
    ("aws.cloudwatch", "CloudWatch Alarm State Change"): state_change_alerts,
    ("aws.guardduty", "GuardDuty Finding"): guardduty_alerts,
    ("aws.securityhub", "Security Hub Findings - Imported"): securityhub_alerts,
    ("aws.securityhub", "Security Hub Findings - Custom Action"): securityhub_alerts,
    ("aws.health", "AWS Health Event"): health_alerts,
}
