"""Prometheus text exposition: counters, histograms in seconds, gauges, escaping, and EMF documents read back."""

from __future__ import annotations

import math

import pytest

from pagerduty_utils.prometheus import CONTENT_TYPE, PrometheusRegistry, metric_name


def test_names_are_snake_case_and_valid() -> None:
    assert metric_name("PagerDutyIntegration", "PagerDutyApiCall") == "pager_duty_integration_pager_duty_api_call"
    assert metric_name("HTTPRequests") == "http_requests"
    assert metric_name("5xx.rate") == "_5xx_rate"


def test_counts_add_up_per_label_set() -> None:
    registry = PrometheusRegistry("Tests")
    registry.observe("AlertsForwarded", "Count", 2, {"Source": "guardduty"})
    registry.observe("AlertsForwarded", "Count", 3, {"Source": "guardduty"})
    registry.observe("AlertsForwarded", "Count", 1, {"Source": "alarm"})
    assert registry.render() == (
        "# HELP tests_alerts_forwarded_total AlertsForwarded (Count)\n"
        "# TYPE tests_alerts_forwarded_total counter\n"
        'tests_alerts_forwarded_total{source="alarm"} 1\n'
        'tests_alerts_forwarded_total{source="guardduty"} 5\n'
    )


def test_timings_are_histograms_in_seconds() -> None:
    registry = PrometheusRegistry("Tests", buckets=(0.1, 1.0))
    for milliseconds in (50.0, 100.0, 700.0, 4000.0):
        registry.observe("ApiLatency", "Milliseconds", milliseconds)
    lines = registry.render().splitlines()
    assert lines[1] == "# TYPE tests_api_latency_seconds histogram"
    assert lines[2:] == [
        'tests_api_latency_seconds_bucket{le="0.1"} 2',
        'tests_api_latency_seconds_bucket{le="1"} 3',
        'tests_api_latency_seconds_bucket{le="+Inf"} 4',
        "tests_api_latency_seconds_sum 4.85",
        "tests_api_latency_seconds_count 4",
    ]


def test_other_units_are_gauges_with_the_last_value() -> None:
    registry = PrometheusRegistry("Tests")
    registry.observe("QueueDepth", "None", 12)
    registry.observe("QueueDepth", "None", 7)
    assert registry.render().splitlines()[-1] == "tests_queue_depth 7"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_values_that_are_not_finite_are_dropped(value: float) -> None:
    registry = PrometheusRegistry("Tests")
    registry.observe("ApiLatency", "Milliseconds", value)
    assert registry.render() == ""


def test_label_values_are_escaped() -> None:
    registry = PrometheusRegistry("Tests")
    registry.observe("Calls", "Count", 1, {"Check": 'say "hi"\\\nnow'})
    assert registry.render().splitlines()[-1] == 'tests_calls_total{check="say \\"hi\\"\\\\\\nnow"} 1'


def test_emf_documents_are_read_back_with_their_dimensions() -> None:
    document = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {
                    "Namespace": "PagerDutyIntegration",
                    "Dimensions": [["service", "Operation"]],
                    "Metrics": [{"Name": "PagerDutyApiCall", "Unit": "Count"}, {"Name": "Latency", "Unit": "Seconds"}],
                }
            ],
        },
        "service": "alert-forwarder",
        "Operation": "events.enqueue",
        "PagerDutyApiCall": [1.0, 1.0],
        "Latency": 0.2,
    }
    registry = PrometheusRegistry("PagerDutyIntegration")
    registry.observe_emf(document)
    registry.observe_emf({"message": "an ordinary log line"})
    exposition = registry.render()
    assert (
        'pager_duty_integration_pager_duty_api_call_total{operation="events.enqueue",service="alert-forwarder"} 2'
        in exposition.splitlines()
    )
    assert "pager_duty_integration_latency_seconds_count" in exposition
    assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")
