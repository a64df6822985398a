"""Trigger a PagerDuty alert from your own function, and resolve it when the condition clears.

Shows ``EventsClient`` with the routing key read through ``pagerduty_utils.secrets`` (a Secrets Manager secret,
or ``ssm:/path`` for an SSM SecureString), and a deadline derived from the Lambda context: retries stop while
the function still has a second left to answer. The dedup key names the check, so the failing result and the
later recovered one address the same alert.

Environment: ROUTING_KEY_SECRET_ID (the secret holding the integration's 32-character routing key),
PAGERDUTY_REGION (optional: us by default, or eu) or PAGERDUTY_EVENTS_URL (optional: any base URL).
Events: events/check_failed.json triggers the alert, events/check_recovered.json resolves it.
Run: ``pytest tests/integration/test_examples.py -k send_alert`` invokes both against the PagerDuty simulator.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parser import BaseModel, parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from pagerduty_utils import secrets
from pagerduty_utils.api_client import EventsClient, deadline_from_context
from pagerduty_utils.pagerduty_events import AlertEvent, EventAction, Severity


class CheckResult(BaseModel):
    check: str
    target: str
    healthy: bool
    observed: str


@cache
def events_client() -> EventsClient:
    """Built on the first invocation and kept for the container, so warm invocations reuse the connection."""
    return EventsClient.from_environment()


def alert_for(result: CheckResult, routing_key: str) -> AlertEvent:
    """The event in PagerDuty's own JSON shape, validated (and made to fit PagerDuty's limits when sent)."""
    event: dict[str, Any] = {"routing_key": routing_key, "dedup_key": f"synthetic-check/{result.check}"}
    if result.healthy:
        event["event_action"] = EventAction.RESOLVE
    else:
        event["event_action"] = EventAction.TRIGGER
        event["payload"] = {
            "summary": f"{result.check} failing: {result.observed}",
            "source": result.target,
            "severity": Severity.ERROR,
            "custom_details": result.model_dump(),
        }
    return AlertEvent.model_validate(event)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    alert = alert_for(parse(event=event, model=CheckResult), secrets.get_secret(os.environ["ROUTING_KEY_SECRET_ID"]))
    sent = events_client().send(alert, deadline=deadline_from_context(context))
    return {"action": alert.event_action.value, "dedup_key": sent.dedup_key, "attempts": sent.attempts}
