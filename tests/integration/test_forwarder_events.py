"""Every sample event through the forwarder's handler, against the embedded AWS and the PagerDuty simulator.

The samples are events/*.json (the ones the demo and ``pdutils invoke`` tests also run) and events/sources/*.json
(one per modelled AWS source and per generic path, exercised here and in the unit tests only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.alert_forwarder import app
from pagerduty_utils.alert_forwarder.dead_letter import REASON_ATTRIBUTE
from pagerduty_utils.alert_forwarder.wiring import Forwarder, build_forwarder
from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.settings import ForwarderSettings, load_settings
from pdutils.simulator import SimulatorHandle
from pdutils.testing.forwarder import ROUTING_KEYS, ForwarderStack, LambdaContextStub

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).parents[2] / "events"
FORWARDER_EVENTS = sorted(
    str(path.relative_to(EVENTS))
    for path in [*EVENTS.glob("*.json"), *EVENTS.glob("sources/*.json")]
    if path.name.startswith(("sqs_", "sns_", "eventbridge_"))
)
OTHER_EVENTS = sorted(path.name for path in EVENTS.glob("*.json") if path.name not in FORWARDER_EVENTS)
EVENTS_PATHS = ("/v2/enqueue", "/v2/change/enqueue")


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


SAMPLE_ALARM_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:pagerduty-alerts"


@pytest.fixture
def forwarder(forwarder_stack: ForwarderStack, pd_sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Forwarder:
    # The samples' alarms come from the stack's alert topic, which the template names as CloudWatch-only.
    monkeypatch.setenv("ALARM_TOPIC_ARNS", SAMPLE_ALARM_TOPIC_ARN)
    return build_forwarder(load_settings(ForwarderSettings))


def accepted_events(pd_sim: SimulatorHandle, path: str = "/v2/enqueue") -> list[dict[str, Any]]:
    return [request.body for request in pd_sim.state.requests if request.path == path and request.status == 202]


def accepted_changes(pd_sim: SimulatorHandle) -> list[dict[str, Any]]:
    return accepted_events(pd_sim, "/v2/change/enqueue")


def test_the_sample_events_cover_every_trigger() -> None:
    assert {Path(name).name.split("_")[0] for name in FORWARDER_EVENTS} == {"sqs", "sns", "eventbridge"}


@pytest.mark.parametrize("name", FORWARDER_EVENTS)
def test_sample_event_reaches_pagerduty(name: str, forwarder: Forwarder, pd_sim: SimulatorHandle) -> None:
    event = load_event(name)
    response = app.lambda_handler(event, LambdaContextStub(), forwarder=forwarder)
    if Path(name).name.startswith("sqs_"):
        assert response == {"batchItemFailures": []}
    else:
        assert response is None
    sent = accepted_events(pd_sim)
    assert sent + accepted_changes(pd_sim), "nothing reached PagerDuty"
    assert {body["routing_key"] for body in sent + accepted_changes(pd_sim)} == {ROUTING_KEYS["default"]}
    assert [request.path for request in pd_sim.state.requests if request.status != 202] == []
    assert all(request.validation_errors == [] for request in pd_sim.state.requests)
    assert len(pd_sim.state.change_events) == len(accepted_changes(pd_sim))
    for body in sent:
        alert = pd_sim.state.alerts.get((body["routing_key"], body["dedup_key"]))
        if body["event_action"] == "trigger":
            assert alert is not None
            assert alert.status == "triggered"
        else:  # a resolve reaches only an alert that is open: here none was
            assert alert is None or alert.status == "resolved"


@pytest.mark.parametrize("name", FORWARDER_EVENTS)
def test_sample_event_is_sent_once_even_when_invoked_twice(
    name: str, forwarder: Forwarder, pd_sim: SimulatorHandle
) -> None:
    event = load_event(name)
    app.lambda_handler(event, LambdaContextStub(), forwarder=forwarder)
    first = (len(accepted_events(pd_sim)), len(accepted_changes(pd_sim)))
    app.lambda_handler(event, LambdaContextStub(), forwarder=forwarder)
    assert (len(accepted_events(pd_sim)), len(accepted_changes(pd_sim))) == first


@pytest.mark.parametrize("name", [name for name in OTHER_EVENTS if name.startswith("apigateway_")])
def test_events_of_other_functions_are_refused(name: str, forwarder: Forwarder, pd_sim: SimulatorHandle) -> None:
    with pytest.raises(ValidationError, match="unsupported invocation"):
        app.lambda_handler(load_event(name), LambdaContextStub(), forwarder=forwarder)
    assert pd_sim.state.requests == []


def test_a_well_formed_event_of_no_modelled_type_pages_through_the_generic_path(
    forwarder: Forwarder, pd_sim: SimulatorHandle
) -> None:
    event = load_event("schedule.json")
    assert app.lambda_handler(event, LambdaContextStub(), forwarder=forwarder) is None
    [body] = accepted_events(pd_sim)
    assert body["dedup_key"] == f"aws/events/{event['source']}/{event['id']}"
    assert body["payload"]["severity"] == "warning"


def test_a_malformed_event_of_a_modelled_type_is_dead_lettered_with_the_reason(
    forwarder_stack: ForwarderStack, forwarder: Forwarder, pd_sim: SimulatorHandle
) -> None:
    event = load_event("sources/eventbridge_glue_job_failed.json")
    del event["detail"]["jobName"]
    assert app.lambda_handler(event, LambdaContextStub(), forwarder=forwarder) is None
    [letter] = forwarder_stack.dead_letters()
    assert letter["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"] == "validation"
    assert "detail.jobName: Field required" in letter["MessageAttributes"]["pdutils.dlq.detail"]["StringValue"]
    assert json.loads(letter["Body"]) == event
    assert pd_sim.state.requests == []


def test_every_record_of_a_direct_sns_invocation_is_processed_or_reported(
    forwarder_stack: ForwarderStack, forwarder: Forwarder, pd_sim: SimulatorHandle
) -> None:
    """Records sharing a MessageId each count, and a malformed record fails alone, with a reason, no traceback."""
    event = load_event("sns_cloudwatch_alarm.json")
    alarm = event["Records"][0]
    backup = load_event("sources/sns_aws_backup_notification.json")["Records"][0]
    backup["Sns"]["MessageId"] = alarm["Sns"]["MessageId"]
    malformed = {**alarm, "Sns": {**alarm["Sns"], "SigningCertUrl": "not a url", "Type": "SubscriptionConfirmation"}}
    event["Records"] = [alarm, backup, malformed]
    assert app.lambda_handler(event, LambdaContextStub(), forwarder=forwarder) is None
    assert sorted(body["payload"]["summary"][:12] for body in accepted_events(pd_sim)) == [
        "ALARM: check",
        "Notification",
    ]
    [letter] = forwarder_stack.dead_letters()
    assert "invalid SNS notification: Type" in letter["MessageAttributes"]["pdutils.dlq.detail"]["StringValue"]


def test_a_deployment_reaches_pagerduty_as_a_change_event(forwarder: Forwarder, pd_sim: SimulatorHandle) -> None:
    event = load_event("sources/eventbridge_codedeploy_deployment_succeeded.json")
    app.lambda_handler(event, LambdaContextStub(), forwarder=forwarder)
    [change] = pd_sim.state.change_events
    assert change["payload"]["summary"] == "CodeDeploy SUCCESS: checkout-api/production — d-7ZA4Q2B1X"
    assert change["links"][0]["text"] == "View the deployment in CodeDeploy"
    assert [body["event_action"] for body in accepted_events(pd_sim)] == ["resolve"]


def test_a_later_success_resolves_what_a_failed_job_opened(forwarder: Forwarder, pd_sim: SimulatorHandle) -> None:
    failed = load_event("sources/eventbridge_glue_job_failed.json")
    app.lambda_handler(failed, LambdaContextStub(), forwarder=forwarder)
    succeeded = {**failed, "id": "later-run", "time": "2026-11-27T07:12:09Z"}
    succeeded["detail"] = {**failed["detail"], "state": "SUCCEEDED", "severity": "INFO"}
    app.lambda_handler(succeeded, LambdaContextStub(), forwarder=forwarder)
    [alert] = pd_sim.state.alerts.values()
    assert alert.status == "resolved"


def test_alarm_then_ok_over_direct_sns_opens_then_resolves(forwarder: Forwarder, pd_sim: SimulatorHandle) -> None:
    app.lambda_handler(load_event("sns_cloudwatch_alarm.json"), LambdaContextStub(), forwarder=forwarder)
    [(key, alert)] = pd_sim.state.alerts.items()
    assert alert.status == "triggered"
    app.lambda_handler(load_event("sns_cloudwatch_ok.json"), LambdaContextStub(), forwarder=forwarder)
    assert pd_sim.state.alerts[key].status == "resolved"


def test_late_alarm_after_ok_is_not_sent(forwarder: Forwarder, pd_sim: SimulatorHandle) -> None:
    app.lambda_handler(load_event("sns_cloudwatch_alarm.json"), LambdaContextStub(), forwarder=forwarder)
    app.lambda_handler(load_event("sns_cloudwatch_ok.json"), LambdaContextStub(), forwarder=forwarder)
    late_alarm = load_event("sns_cloudwatch_alarm.json")
    late_alarm["Records"][0]["Sns"]["MessageId"] = "redelivered-by-another-path"
    app.lambda_handler(late_alarm, LambdaContextStub(), forwarder=forwarder)
    assert [body["event_action"] for body in accepted_events(pd_sim)] == ["trigger", "resolve"]
    assert [alert.status for alert in pd_sim.state.alerts.values()] == ["resolved"]


def test_queue_path_alarm_then_ok(
    forwarder_stack: ForwarderStack, forwarder: Forwarder, pd_sim: SimulatorHandle
) -> None:
    """SNS notification bodies on the alert queue, as an SNS subscription delivers them, received in one batch."""
    for name in ("sns_cloudwatch_ok.json", "sns_cloudwatch_alarm.json"):
        forwarder_stack.publish(json.dumps(load_event(name)["Records"][0]["Sns"]))
    event = forwarder_stack.receive_batch()
    response = app.lambda_handler(event, LambdaContextStub(), forwarder=forwarder)
    forwarder_stack.settle(event, response)
    assert response == {"batchItemFailures": []}
    assert [body["event_action"] for body in accepted_events(pd_sim)] == ["trigger", "resolve"]
    assert forwarder_stack.queued() == 0
