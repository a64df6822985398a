"""The fault matrix: PagerDuty misbehaves, and every alert is still accounted for and sent at most once.

alerts in = delivered + dead-lettered + still queued, after each fault and after the queue drains.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from functions.alert_forwarder import app
from pagerduty_utils.alert_forwarder.dead_letter import REASON_ATTRIBUTE
from pagerduty_utils.alert_forwarder.wiring import Forwarder, build_forwarder
from pagerduty_utils.exceptions import RetryableError
from pagerduty_utils.settings import ForwarderSettings, load_settings
from pagerduty_utils.state_table import circuit_key
from pdutils.simulator import SimulatorHandle
from pdutils.testing.forwarder import ForwarderStack, LambdaContextStub, application_alert

pytestmark = pytest.mark.integration

ALERTS = 8
CIRCUIT_THRESHOLD = 2


@pytest.fixture
def stack(forwarder_stack: ForwarderStack, pd_sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch) -> ForwarderStack:
    monkeypatch.setenv("PAGERDUTY_READ_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("CIRCUIT_FAILURE_THRESHOLD", str(CIRCUIT_THRESHOLD))
    # Retried sends spend tokens too: a budget far above these few alerts keeps the limiter out of this matrix
    # (tests/integration/test_forwarder_concurrency.py is where the budget is tested).
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "1200")
    for index in range(ALERTS):
        forwarder_stack.publish(json.dumps(application_alert(f"fault-{index}")))
    return forwarder_stack


def new_forwarder() -> Forwarder:
    """A forwarder as a fresh Lambda container builds it."""
    return build_forwarder(load_settings(ForwarderSettings))


def run_batch(stack: ForwarderStack, forwarder: Forwarder) -> int:
    """One invocation on up to ten queued records; the failed ones are made receivable again at once."""
    event = stack.receive_batch()
    if not event["Records"]:
        return 0
    response = app.lambda_handler(event, LambdaContextStub(), forwarder=forwarder)
    return stack.settle(event, response, skip_backoff=True)


def drain(stack: ForwarderStack, forwarder: Forwarder, rounds: int = 6) -> None:
    for _ in range(rounds):
        if stack.queued() == 0:
            return
        run_batch(stack, forwarder)


def accepted(pd_sim: SimulatorHandle) -> list[dict[str, Any]]:
    return [
        request.body for request in pd_sim.state.requests if request.path == "/v2/enqueue" and request.status == 202
    ]


def assert_accounted(stack: ForwarderStack, pd_sim: SimulatorHandle) -> tuple[int, int, int]:
    """alerts in = delivered + dead-lettered + still queued, and no event accepted twice."""
    sent = Counter((body["routing_key"], body["dedup_key"], body["event_action"]) for body in accepted(pd_sim))
    assert all(count == 1 for count in sent.values()), f"sent twice: {sent.most_common(3)}"
    delivered = len({dedup_key for _, dedup_key, _ in sent})
    dead_lettered = len(stack.dead_letters())
    queued = stack.queued()
    assert delivered + dead_lettered + queued == ALERTS
    return delivered, dead_lettered, queued


FAULTS = {
    "429 with rate-limit headers": {"status": 429, "count": 3},
    "429 without headers": {"status": 429, "headers": {}, "count": 3},
    "500": {"status": 500, "count": 3},
    "503": {"status": 503, "count": 4},
    "timeout": {"timeout": True, "count": 2},
    "dropped connection": {"drop": True, "count": 2},
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_transient_faults_lose_nothing_and_send_nothing_twice(
    stack: ForwarderStack, pd_sim: SimulatorHandle, fault: dict[str, Any]
) -> None:
    pd_sim.faults.inject(**fault, path_prefix="/v2/enqueue")
    forwarder = new_forwarder()
    run_batch(stack, forwarder)
    assert_accounted(stack, pd_sim)
    pd_sim.faults.clear()
    drain(stack, forwarder)
    assert assert_accounted(stack, pd_sim) == (ALERTS, 0, 0)


def test_rejected_event_is_dead_lettered_once_and_the_rest_delivered(
    stack: ForwarderStack, pd_sim: SimulatorHandle
) -> None:
    pd_sim.faults.inject(status=400, count=1, path_prefix="/v2/enqueue")
    drain(stack, new_forwarder())
    assert assert_accounted(stack, pd_sim) == (ALERTS - 1, 1, 0)
    rejected = [request for request in pd_sim.state.requests if request.status == 400]
    assert len(rejected) == 1  # a 400 is never retried


def test_dead_letter_carries_the_reason(stack: ForwarderStack, pd_sim: SimulatorHandle) -> None:
    pd_sim.faults.inject(status=400, count=1, path_prefix="/v2/enqueue")
    run_batch(stack, new_forwarder())
    [letter] = stack.dead_letters()
    assert letter["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"] == "invalid_event"
    assert json.loads(letter["Body"])["detail-type"] == "Application Alert"


def test_open_circuit_holds_alerts_back_without_calling_pagerduty(
    stack: ForwarderStack, pd_sim: SimulatorHandle
) -> None:
    pd_sim.faults.inject(status=503, count=None, path_prefix="/v2/enqueue")
    forwarder = new_forwarder()
    assert run_batch(stack, forwarder) == ALERTS  # the batch fails and trips the circuit
    calls_while_failing = len(pd_sim.state.requests)
    assert run_batch(stack, forwarder) == ALERTS  # open: handed back at once
    assert len(pd_sim.state.requests) == calls_while_failing
    assert_accounted(stack, pd_sim)

    pd_sim.faults.clear()
    recovery_elapsed(stack, pd_sim.base_url)
    drain(stack, new_forwarder())
    assert assert_accounted(stack, pd_sim) == (ALERTS, 0, 0)


def recovery_elapsed(stack: ForwarderStack, events_url: str) -> None:
    """Move the stored opening back past the recovery time, as if CIRCUIT_RECOVERY_SECONDS had passed."""
    host = events_url.split("://", 1)[1].rstrip("/")
    stack.table.client.update_item(
        TableName=stack.table.name,
        Key={"pk": {"S": circuit_key(host)}},
        UpdateExpression="SET opened_at = :past",
        ExpressionAttributeValues={":past": {"N": "1000"}},
    )


def direct_eventbridge_alert() -> dict[str, Any]:
    return application_alert("direct-invocation")


def test_direct_invocation_raises_when_it_must_be_retried(stack: ForwarderStack, pd_sim: SimulatorHandle) -> None:
    pd_sim.faults.inject(status=503, count=None, path_prefix="/v2/enqueue")
    with pytest.raises(RetryableError, match="unavailable"):
        app.lambda_handler(direct_eventbridge_alert(), LambdaContextStub(), forwarder=new_forwarder())
    pd_sim.faults.clear()
    assert app.lambda_handler(direct_eventbridge_alert(), LambdaContextStub(), forwarder=new_forwarder()) is None
    assert [body["dedup_key"] for body in accepted(pd_sim)] == ["direct-invocation"]


def test_direct_invocation_rejected_by_pagerduty_is_dead_lettered(
    stack: ForwarderStack, pd_sim: SimulatorHandle
) -> None:
    pd_sim.faults.inject(status=400, count=1, path_prefix="/v2/enqueue")
    assert app.lambda_handler(direct_eventbridge_alert(), LambdaContextStub(), forwarder=new_forwarder()) is None
    [letter] = stack.dead_letters()
    assert json.loads(letter["Body"]) == direct_eventbridge_alert()
