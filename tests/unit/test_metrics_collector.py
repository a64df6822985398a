from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from pagerduty_utils.metrics_collector import DEFAULT_NAMESPACE, MAX_DIMENSIONS, MetricsCollector


@pytest.fixture
def shared() -> Iterator[Metrics]:
    shared_metrics = Metrics(namespace="Tests", service="collector-test")
    shared_metrics.clear_metrics()
    yield shared_metrics
    shared_metrics.clear_metrics()


def emitted_documents(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def metric_definition(document: dict[str, Any]) -> dict[str, Any]:
    definition: dict[str, Any] = document["_aws"]["CloudWatchMetrics"][0]
    return definition


def test_metric_without_dimensions_joins_the_invocation_document(
    shared: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    MetricsCollector(shared).count("AlertsForwarded", 3)
    assert emitted_documents(capsys) == []
    assert shared.metric_set["AlertsForwarded"]["Value"] == [3.0]


def test_metric_with_dimensions_is_its_own_document(shared: Metrics, capsys: pytest.CaptureFixture[str]) -> None:
    MetricsCollector(shared).timing("QueueWait", 12.5, source="guardduty")
    [document] = emitted_documents(capsys)
    definition = metric_definition(document)
    assert definition["Namespace"] == "Tests"
    assert set(definition["Dimensions"][0]) == {"service", "source"}
    assert definition["Metrics"] == [{"Name": "QueueWait", "Unit": "Milliseconds"}]
    assert (document["QueueWait"], document["source"], document["service"]) == ([12.5], "guardduty", "collector-test")
    assert shared.metric_set == {}


def test_api_call_writes_count_latency_and_retries_in_one_document(
    shared: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    MetricsCollector(shared).api_call("events.send", 429, 41.0, 2)
    [document] = emitted_documents(capsys)
    names = {metric["Name"] for metric in metric_definition(document)["Metrics"]}
    assert names == {"PagerDutyApiCall", "PagerDutyApiLatency", "PagerDutyApiRetries"}
    assert (document["Operation"], document["StatusClass"], document["status_code"]) == ("events.send", "4xx", 429)
    assert (document["PagerDutyApiLatency"], document["PagerDutyApiRetries"]) == ([41.0], [2.0])


def test_api_call_without_http_answer_is_a_network_error(shared: Metrics, capsys: pytest.CaptureFixture[str]) -> None:
    MetricsCollector(shared).api_call("rest.get_abilities", None, 3000.0, 0)
    [document] = emitted_documents(capsys)
    assert document["StatusClass"] == "network_error"


def test_dimensions_beyond_the_emf_limit_are_dropped(shared: Metrics, capsys: pytest.CaptureFixture[str]) -> None:
    dimensions = {f"d{index:02}": "v" for index in range(40)}
    MetricsCollector(shared).record({"Wide": (MetricUnit.Count, 1)}, dimensions)
    [document] = emitted_documents(capsys)
    kept = metric_definition(document)["Dimensions"][0]
    assert len(kept) == MAX_DIMENSIONS
    assert "d39" not in kept


def test_invalid_metric_is_dropped_without_raising(shared: Metrics, capsys: pytest.CaptureFixture[str]) -> None:
    collector = MetricsCollector(shared)
    collector.count("x" * 300, operation="too-long-name")
    collector.count("x" * 300)
    assert [line for line in emitted_documents(capsys) if "_aws" in line] == []
    assert shared.metric_set == {}


def test_namespace_falls_back_to_a_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    unnamed = Metrics()
    assert MetricsCollector(unnamed).namespace == DEFAULT_NAMESPACE
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "FromEnv")
    assert MetricsCollector(unnamed).namespace == "FromEnv"
    assert MetricsCollector(unnamed, namespace="Explicit").namespace == "Explicit"


def test_reused_documents_carry_only_their_own_call(shared: Metrics, capsys: pytest.CaptureFixture[str]) -> None:
    collector = MetricsCollector(shared)
    collector.api_call("events.trigger", 202, 10.0, 0)
    collector.api_call("events.trigger", 202, 20.0, 1)
    collector.api_call("events.trigger", 503, 30.0, 2)
    documents = emitted_documents(capsys)
    assert [document["PagerDutyApiLatency"] for document in documents] == [[10.0], [20.0], [30.0]]
    assert [document["StatusClass"] for document in documents] == ["2xx", "2xx", "5xx"]


def test_disabled_metrics_write_nothing(
    shared: Metrics, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    MetricsCollector(shared).api_call("events.trigger", 202, 10.0, 0)
    assert emitted_documents(capsys) == []


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_values_that_are_not_finite_never_reach_emf(
    shared: Metrics, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, value: float
) -> None:
    collector = MetricsCollector(shared)
    collector.timing("QueueWait", value, source="guardduty")
    collector.count("AlertsForwarded", value)
    collector.record(
        {"Latency": (MetricUnit.Milliseconds, value), "Calls": (MetricUnit.Count, 1)}, {"Operation": "enqueue"}
    )

    output = capsys.readouterr().out
    for token in ("NaN", "Infinity"):
        assert token not in output
    [document] = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    assert (document["Calls"], "Latency" in document) == ([1.0], False)  # the finite value of the call is kept
    assert "AlertsForwarded" not in shared.metric_set
    dropped = [record for record in caplog.records if record.getMessage() == "metric dropped"]
    assert [(record.metrics, record.reason) for record in dropped] == [  # type: ignore[attr-defined]
        (["QueueWait"], "not a finite number"),
        (["AlertsForwarded"], "not a finite number"),
        (["Latency"], "not a finite number"),
    ]
    shared.add_metric(name="Flushed", unit=MetricUnit.Count, value=1)
    assert "NaN" not in json.dumps(shared.serialize_metric_set(), allow_nan=False)


def test_metadata_that_is_not_finite_drops_the_document(shared: Metrics, capsys: pytest.CaptureFixture[str]) -> None:
    MetricsCollector(shared).record({"Calls": (MetricUnit.Count, 1)}, {"Operation": "x"}, metadata={"ratio": math.nan})
    assert "NaN" not in capsys.readouterr().out


def test_exposed_to_prometheus_the_same_values_are_scraped(shared: Metrics, capsys: pytest.CaptureFixture[str]) -> None:
    collector = MetricsCollector(shared, namespace="PagerDutyIntegration")
    registry = collector.expose_prometheus()
    collector.api_call("events.enqueue", 202, latency_ms=120.0, retries=0)
    collector.api_call("events.enqueue", 503, latency_ms=2400.0, retries=2)
    collector.count("AlertsForwarded", 3)
    collector.timing("QueueWait", math.nan, source="sqs")

    exposition = registry.render()
    assert (
        'pager_duty_integration_pager_duty_api_call_total{operation="events.enqueue",service="collector-test",'
        'status_class="2xx"} 1' in exposition.splitlines()
    )
    assert (
        'pager_duty_integration_pager_duty_api_retries_total{operation="events.enqueue",service="collector-test",'
        'status_class="5xx"} 2' in exposition.splitlines()
    )
    assert 'pager_duty_integration_alerts_forwarded_total{service="collector-test"} 3' in exposition.splitlines()
    assert "# TYPE pager_duty_integration_pager_duty_api_latency_seconds histogram" in exposition
    assert "queue_wait" not in exposition
    assert len([document for document in emitted_documents(capsys) if "_aws" in document]) == 2  # EMF beside it
