from __future__ import annotations

import json
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
