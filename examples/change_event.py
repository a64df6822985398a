"""Tell PagerDuty about a deployment with a change event, straight from CodeDeploy's EventBridge event.

Shows ``EventsClient.send_change``: responders see recent changes beside an incident on the same service.
The event is parsed with a Powertools Parser model (``EventBridgeModel`` with a typed ``detail``). Route it with
an EventBridge rule such as ``{"source": ["aws.codedeploy"], "detail-type": ["CodeDeploy Deployment
State-change Notification"], "detail": {"state": ["SUCCESS", "FAILURE"]}}``.

Environment: ROUTING_KEY_SECRET_ID (the secret holding the service's 32-character routing key),
PAGERDUTY_REGION (optional: us by default, or eu) or PAGERDUTY_EVENTS_URL (optional: any base URL).
Event: events/codedeploy_deployment_success.json.
Run: ``pytest tests/integration/test_examples.py -k change_event`` invokes it against the PagerDuty simulator.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parser import BaseModel, Field, parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from pagerduty_utils import secrets
from pagerduty_utils.api_client import EventsClient, deadline_from_context
from pagerduty_utils.pagerduty_events import ChangeEvent, Link


class DeploymentDetail(BaseModel):
    application: str
    deployment_group: str = Field(alias="deploymentGroup")
    deployment_id: str = Field(alias="deploymentId")
    state: str


class DeploymentStateChange(EventBridgeModel):
    detail: DeploymentDetail


@cache
def events_client() -> EventsClient:
    return EventsClient.from_environment()


def change_for(deployment: DeploymentStateChange, routing_key: str) -> ChangeEvent:
    detail = deployment.detail
    region = deployment.region
    console = f"https://{region}.console.aws.amazon.com/codesuite/codedeploy/deployments/{detail.deployment_id}"
    return ChangeEvent(
        routing_key=routing_key,
        summary=f"{detail.application} deployment to {detail.deployment_group}: {detail.state} "
        f"({detail.deployment_id})",
        source=f"aws.codedeploy/{deployment.account}/{region}",
        timestamp=deployment.time,
        custom_details=detail.model_dump(),
        links=(Link(href=f"{console}?region={region}", text="Deployment in CodeDeploy"),),
    )


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deployment = parse(event=event, model=DeploymentStateChange)
    change = change_for(deployment, secrets.get_secret(os.environ["ROUTING_KEY_SECRET_ID"]))
    sent = events_client().send_change(change, deadline=deadline_from_context(context))
    return {"status_code": sent.status_code, "summary": change.summary}
