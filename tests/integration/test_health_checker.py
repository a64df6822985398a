"""The health checker end to end: embedded AWS + PagerDuty simulator, metrics, snapshot, status-change notices."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from typing_extensions import override

from functions.health_checker import app
from pagerduty_utils.exceptions import DependencyError
from pagerduty_utils.health_monitor.monitor import HealthMonitor
from pagerduty_utils.health_monitor.operations import SnsOperationsChannel
from pagerduty_utils.health_monitor.report import CheckOutcome, HealthReport, HealthStatus
from pagerduty_utils.health_monitor.runner import HealthCheck
from pagerduty_utils.health_monitor.snapshot import SNAPSHOT_KEY, DynamoDBSnapshotStore
from pagerduty_utils.health_monitor.wiring import HealthDependencies, build_checks, build_monitor
from pagerduty_utils.metrics_collector import metrics_collector
from pagerduty_utils.observability import metrics
from pdutils.simulator import SimulatorHandle
from pdutils.testing.forwarder import STATE_TABLE_NAME
from pdutils.testing.health import HangingCheck, HealthStack

pytestmark = pytest.mark.integration


class Rendezvous(HealthCheck):
    """Holds each run until the other has finished its checks too, so both record at the same moment."""

    name = "rendezvous"

    def __init__(self, barrier: threading.Barrier) -> None:
        self._barrier = barrier

    @override
    def run(self, deadline: float) -> CheckOutcome:
        self._barrier.wait(timeout=10)
        return CheckOutcome.healthy("both runs are here")


def monitor_for(health_stack: HealthStack, *extra_checks: HealthCheck, deadline: float = 5.0) -> HealthMonitor:
    settings = health_stack.settings()
    return HealthMonitor(
        [*build_checks(settings), *extra_checks],
        deadline_seconds=deadline,
        snapshots=DynamoDBSnapshotStore(STATE_TABLE_NAME, boto3.client("dynamodb")),
        operations=SnsOperationsChannel(health_stack.operations_topic_arn, lambda: boto3.client("sns")),
    )


def statuses(report: HealthReport) -> dict[str, HealthStatus]:
    return {check.name: check.status for check in report.checks}


def test_everything_healthy(health_stack: HealthStack) -> None:
    run = build_monitor(health_stack.settings()).run()

    assert statuses(run.report) == {
        "pagerduty_rest": HealthStatus.HEALTHY,
        "pagerduty_events": HealthStatus.HEALTHY,
        "state_table": HealthStatus.HEALTHY,
        "pagerduty_circuits": HealthStatus.HEALTHY,
        "secrets": HealthStatus.HEALTHY,
        "kms_key": HealthStatus.HEALTHY,
        "alert_queue": HealthStatus.HEALTHY,
        "dead_letter_queue": HealthStatus.HEALTHY,
    }
    assert run.report.status is HealthStatus.HEALTHY
    assert not run.announced
    assert health_stack.announcements() == []
    assert health_stack.stored_report() == run.report


@pytest.mark.parametrize(
    ("fault", "status", "reason_part"),
    [
        ({"status": 401}, HealthStatus.UNHEALTHY, "other PagerDuty region"),
        ({"status": 403}, HealthStatus.UNHEALTHY, "HTTP 403"),
        ({"status": 429}, HealthStatus.DEGRADED, "rate limited"),
        ({"status": 500}, HealthStatus.UNHEALTHY, "status=500"),
    ],
)
def test_pagerduty_rest_faults(
    health_stack: HealthStack, pd_sim: SimulatorHandle, fault: dict[str, Any], status: HealthStatus, reason_part: str
) -> None:
    pd_sim.faults.inject(**fault, path_prefix="/abilities")
    report = build_monitor(health_stack.settings()).run().report
    (rest,) = [check for check in report.checks if check.name == "pagerduty_rest"]
    assert rest.status is status
    assert reason_part in rest.reason
    assert report.status is status
    assert len([request for request in pd_sim.state.requests if request.path == "/abilities"]) == 1


def test_revoked_token_is_unhealthy(health_stack: HealthStack, pd_sim: SimulatorHandle) -> None:
    pd_sim.valid_tokens.clear()
    report = build_monitor(health_stack.settings()).run().report
    assert statuses(report)["pagerduty_rest"] is HealthStatus.UNHEALTHY


def test_pagerduty_timeout_is_unhealthy_with_the_clients_reason(
    health_stack: HealthStack, pd_sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The simulator holds the request for 30 s; the run gives up sooner. Three seconds leave the other checks, on a
    # loaded machine, time to finish within the same run.
    monkeypatch.setenv("HEALTH_DEADLINE_SECONDS", "3")
    pd_sim.faults.inject(timeout=True, count=None, path_prefix="/abilities")
    try:
        report = build_monitor(health_stack.settings()).run().report
    finally:
        pd_sim.faults.clear()
    rest = next(check for check in report.checks if check.name == "pagerduty_rest")
    assert rest.status is HealthStatus.UNHEALTHY
    # The check's own deadline comes before the run's cut-off: the reason is the client's, naming the host.
    assert rest.reason.startswith(f"{pd_sim.base_url}: ")
    assert "timed out" in rest.reason
    assert statuses(report)["state_table"] is HealthStatus.HEALTHY


def test_missing_secret_is_unhealthy(health_stack: HealthStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTH_SECRET_IDS", "pd/routing-keys,pd/webhook-secrets")
    report = build_monitor(health_stack.settings()).run().report
    secrets_check = next(check for check in report.checks if check.name == "secrets")
    assert secrets_check.status is HealthStatus.UNHEALTHY
    assert "'pd/webhook-secrets'" in secrets_check.reason


def test_status_change_is_announced_once_per_change(health_stack: HealthStack) -> None:
    monitor = build_monitor(health_stack.settings())

    first = monitor.run()
    health_stack.fill_dead_letter_queue(3)
    broken = monitor.run()
    broken_messages = health_stack.announcements()
    still_broken = monitor.run()
    health_stack.drain_dead_letter_queue()
    recovered = monitor.run()
    recovered_messages = health_stack.announcements()

    assert (first.announced, broken.announced, still_broken.announced, recovered.announced) == (
        False,
        True,
        False,
        True,
    )
    assert [message["Subject"] for message in broken_messages] == [
        "[UNHEALTHY] PagerDuty integration is unhealthy (was healthy)"
    ]
    assert (
        broken_messages[0]["Message"]
        .splitlines()[2]
        .startswith("dead_letter_queue: unhealthy: queue pd-alerts-dlq: 3 message(s)")
    )
    assert [message["Subject"] for message in recovered_messages] == [
        "[HEALTHY] PagerDuty integration is healthy (was unhealthy)"
    ]
    assert still_broken.report.previous_status is HealthStatus.UNHEALTHY
    assert health_stack.stored_report().previous_status is HealthStatus.UNHEALTHY


def test_two_concurrent_runs_announce_a_change_once(health_stack: HealthStack) -> None:
    health_stack.fill_dead_letter_queue(1)
    barrier = threading.Barrier(2)
    monitors = [monitor_for(health_stack, Rendezvous(barrier)) for _ in range(2)]
    outcomes: list[bool] = []

    def run(monitor: HealthMonitor) -> None:
        outcomes.append(monitor.run().announced)

    workers = [threading.Thread(target=run, args=(monitor,)) for monitor in monitors]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert sorted(outcomes) == [False, True]
    assert len(health_stack.announcements()) == 1
    assert health_stack.stored_report().status is HealthStatus.UNHEALTHY


def test_failed_announcement_is_retried_by_the_next_run(health_stack: HealthStack) -> None:
    health_stack.fill_dead_letter_queue(1)
    settings = health_stack.settings()
    unreachable_topic = SnsOperationsChannel(
        health_stack.operations_topic_arn + "-deleted", lambda: boto3.client("sns")
    )
    failing = build_monitor(settings, HealthDependencies(operations=unreachable_topic))

    with pytest.raises(DependencyError, match="operations topic publish failed"):
        failing.run()
    retried = build_monitor(settings).run()

    assert retried.announced
    assert len(health_stack.announcements()) == 1


def test_a_snapshot_write_based_on_a_stale_read_is_refused(health_stack: HealthStack) -> None:
    store = DynamoDBSnapshotStore(STATE_TABLE_NAME, health_stack.dynamodb)
    report = build_monitor(health_stack.settings()).run().report
    stale = store.load()
    newer = report.model_copy(update={"status": HealthStatus.DEGRADED})

    assert store.replace(newer, expected=stale, announced=HealthStatus.DEGRADED)
    assert not store.replace(report, expected=stale, announced=HealthStatus.HEALTHY)
    assert not store.replace(report, expected=None, announced=HealthStatus.HEALTHY)
    assert health_stack.stored_report() == newer


def test_an_unreadable_snapshot_is_replaced(health_stack: HealthStack) -> None:
    health_stack.dynamodb.put_item(
        TableName=STATE_TABLE_NAME,
        Item={"pk": {"S": SNAPSHOT_KEY}, "report": {"S": "{not json"}, "announced_status": {"S": "sideways"}},
    )

    run = build_monitor(health_stack.settings()).run()

    assert run.report.status is HealthStatus.HEALTHY
    assert run.report.previous_status is None
    assert not run.announced
    assert health_stack.stored_report() == run.report


def test_a_hanging_dependency_cannot_hold_the_run_past_its_deadline(health_stack: HealthStack) -> None:
    release = threading.Event()
    try:
        report = monitor_for(health_stack, HangingCheck(release), deadline=1.0).run().report
    finally:
        release.set()
    hanging = next(check for check in report.checks if check.name == "hanging_dependency")
    assert hanging.status is HealthStatus.UNHEALTHY
    assert hanging.reason == "timed out: no answer within the 1s health deadline"
    assert report.status is HealthStatus.UNHEALTHY
    assert statuses(report)["state_table"] is HealthStatus.HEALTHY


class FakeLambdaContext(LambdaContext):
    _function_name = "health-checker"
    _memory_limit_in_mb = 256
    _invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:health-checker"
    _aws_request_id = "request-1"


@pytest.fixture
def metrics_namespace() -> Iterator[str]:
    previous = metrics.namespace
    metrics.namespace = "PagerDutyUtilsTest"
    yield "PagerDutyUtilsTest"
    metrics.namespace = previous


def emf_documents(output: str) -> list[dict[str, Any]]:
    documents = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [document for document in documents if "_aws" in document]


def test_handler_emits_one_metric_per_check_and_the_overall_status(
    health_stack: HealthStack, metrics_namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    health_stack.fill_dead_letter_queue(2)
    monitor = build_monitor(health_stack.settings(), HealthDependencies(metrics=metrics_collector))

    response = app.lambda_handler({"source": "aws.events"}, FakeLambdaContext(), monitor=monitor)

    documents = emf_documents(capsys.readouterr().out)
    check_documents = [document for document in documents if "HealthCheck" in document]
    overall = [document for document in documents if "HealthStatus" in document]
    assert response["report"]["status"] == "unhealthy"
    assert response["announced"] is True
    assert {(document["Check"], document["Status"]) for document in check_documents} >= {
        ("dead_letter_queue", "unhealthy"),
        ("state_table", "healthy"),
    }
    assert len(check_documents) == len(response["report"]["checks"])
    assert [document["HealthStatus"] in (2, [2]) for document in overall] == [True]
    latency = [document for document in documents if "HealthCheckLatency" in document]
    assert {document["Check"] for document in latency} == {check["name"] for check in response["report"]["checks"]}


def test_the_report_is_not_put_into_the_trace(
    health_stack: HealthStack, metrics_namespace: str, trace_metadata: dict[str, Any]
) -> None:
    monitor = build_monitor(health_stack.settings(), HealthDependencies(metrics=metrics_collector))
    response = app.lambda_handler({"source": "aws.events"}, FakeLambdaContext(), monitor=monitor)
    assert response["report"]["checks"]
    assert "checks" not in json.dumps(trace_metadata, default=str)
