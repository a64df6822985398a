"""Turn one AWS alert message into source-neutral ``NormalizedAlert`` objects, and those into PagerDuty events.

``normalize`` takes what a queue record body or a direct invocation record carries:
- an SQS record (its ``body`` is unwrapped) or an SNS record (its ``Sns`` notification is unwrapped);
- an SNS notification whose ``Message`` is a CloudWatch alarm notification, an EventBridge event (an SNS target
  of a rule), or anything else: other JSON or plain text becomes a generic trigger (``messages``);
- an EventBridge event: CloudWatch Alarm State Change, GuardDuty Finding, Security Hub Findings (one alert per
  finding), AWS Health Event, or a custom "Application Alert";
- a bare CloudWatch alarm notification (SNS raw message delivery) or the event of an alarm's Lambda action.

Modules: ``envelopes`` (what kind of message is this), ``alarms``, ``findings`` (GuardDuty, Security Hub),
``health``, ``messages`` (custom events, other SNS messages), ``assembly`` (building a cleaned alert),
``provenance`` (what a service-shaped alert becomes when ``TransformOptions.unverified_channel`` says its channel
does not prove its source) and ``model`` (the types and ``to_alert_event``). The mapping rules (actions, dedup
keys, severities) are documented in docs/routing-rules.md. Input that can never be processed raises
``ValidationError`` with the reason; input that intentionally yields nothing (an INSUFFICIENT_DATA alarm with the
"ignore" option) returns an empty list.
"""

from pagerduty_utils.data_transformer.alarms import ALARM_SEVERITY, alarm_severity
from pagerduty_utils.data_transformer.envelopes import MAX_MESSAGE_CHARS, normalize
from pagerduty_utils.data_transformer.findings import SECURITY_HUB_SEVERITY, guardduty_severity, securityhub_action
from pagerduty_utils.data_transformer.health import HEALTH_SEVERITY
from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert, TransformOptions, to_alert_event

__all__ = [
    "ALARM_SEVERITY",
    "HEALTH_SEVERITY",
    "MAX_MESSAGE_CHARS",
    "SECURITY_HUB_SEVERITY",
    "AlertSource",
    "NormalizedAlert",
    "TransformOptions",
    "alarm_severity",
    "guardduty_severity",
    "normalize",
    "securityhub_action",
    "to_alert_event",
]
