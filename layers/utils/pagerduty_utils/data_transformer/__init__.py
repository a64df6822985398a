"""Turn one AWS alert message into source-neutral ``NormalizedAlert`` objects, and those into PagerDuty events.

``normalize`` takes what a queue record body or a direct invocation record carries:
- an SQS record (its ``body`` is unwrapped; a body of no known shape is a generic queue message) or an SNS
  record (its ``Sns`` notification is unwrapped);
- an SNS notification whose ``Message`` is a CloudWatch alarm notification, an EventBridge event (an SNS target
  of a rule), or anything else: other JSON or plain text takes the generic path (``generic``);
- an EventBridge event: a modelled AWS service event (``envelopes.AWS_EVENT_CONVERTERS``: alarms, GuardDuty,
  Security Hub, Health, Step Functions, Glue, Backup, CodePipeline, CodeBuild, CodeDeploy, CloudFormation, ECS,
  RDS, Auto Scaling, Inspector, Config, console sign-ins, root activity), the custom "Application Alert", or any
  other event, which takes the generic path;
- a bare CloudWatch alarm notification (SNS raw message delivery) or the event of an alarm's Lambda action.

Modules: ``envelopes`` (what kind of message this is), one mapping module per source family (``alarms``,
``findings``, ``health``, ``workflows``, ``deployments``, ``infrastructure``, ``security``) over
``service_events`` (pairing), ``messages`` (custom events), ``generic`` with ``wording`` (severity by words) and
``grouping`` (a rule's ``group_by``), ``assembly`` (building a cleaned alert), ``provenance`` (what a
service-shaped alert becomes when ``TransformOptions.unverified_channel`` says its channel does not prove its
source) and ``model`` (the types, ``to_alert_event`` and ``to_change_event``). The mapping is documented source by
source in docs/forwarder.md. Input that can never be processed raises ``ValidationError`` with the reason; input
that intentionally yields nothing (an INSUFFICIENT_DATA alarm with the "ignore" option, a job that started)
returns an empty list.
"""

from typing import TYPE_CHECKING

from pagerduty_utils import lazy_exports
from pagerduty_utils.data_transformer.alarms import ALARM_SEVERITY, alarm_severity
from pagerduty_utils.data_transformer.envelopes import MAX_MESSAGE_CHARS, normalize
from pagerduty_utils.data_transformer.grouping import grouped
from pagerduty_utils.data_transformer.model import (
    AlertSource,
    NormalizedAlert,
    TransformOptions,
    to_alert_event,
    to_change_event,
)
from pagerduty_utils.data_transformer.wording import verdict_of

# The findings and Health mappings load with their first event (``envelopes``), and these names with them.
if TYPE_CHECKING:
    from pagerduty_utils.data_transformer.findings import (
        SECURITY_HUB_SEVERITY,
        guardduty_severity,
        securityhub_action,
    )
    from pagerduty_utils.data_transformer.health import HEALTH_SEVERITY
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "SECURITY_HUB_SEVERITY": "findings",
            "guardduty_severity": "findings",
            "securityhub_action": "findings",
            "HEALTH_SEVERITY": "health",
        },
    )

__all__ = [
    "ALARM_SEVERITY",
    "HEALTH_SEVERITY",
    "MAX_MESSAGE_CHARS",
    "SECURITY_HUB_SEVERITY",
    "AlertSource",
    "NormalizedAlert",
    "TransformOptions",
    "alarm_severity",
    "grouped",
    "guardduty_severity",
    "normalize",
    "securityhub_action",
    "to_alert_event",
    "to_change_event",
    "verdict_of",
]
