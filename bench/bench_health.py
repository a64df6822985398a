"""Benchmark of the health checker (a script, not a test).

Run time against the local stack (moto server and PagerDuty simulator, in a child process so they do not share
this interpreter's GIL): every check alone, then all of them concurrently. Target: the concurrent run close to
the slowest single check, never past the deadline. Repeated with 300 ms of PagerDuty latency.

The cold start of every handler is measured the same way by bench/bench_cold_start.py.

    .venv/bin/python bench/bench_health.py [--runs 7] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from pagerduty_utils.health_monitor.runner import run_checks
from pagerduty_utils.health_monitor.wiring import HealthDependencies, build_checks
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.settings import HealthSettings, load_settings
from pdutils.child_servers import SIMULATOR_CONTROL_HEADERS, servers_in_child_process
from pdutils.moto_server import LOCAL_CREDENTIALS
from pdutils.testing.bench_report import Figure, emit
from pdutils.testing.health import create_health_resources

PAGERDUTY_LATENCY_SECONDS = 0.3


@dataclass(frozen=True)
class RunTimes:
    singles_ms: dict[str, float]
    """Median latency of each check run on its own."""
    concurrent_ms: float
    """Median wall time of one run of every check at once."""
    concurrent_max_ms: float
    deadline_ms: float


def run_times(runs: int) -> RunTimes:
    """Every check alone, then all at once, ``runs`` times each (after one warm-up run)."""
    settings = load_settings(HealthSettings)
    checks = build_checks(settings, HealthDependencies(metrics=MetricsCollector()))
    run_checks(checks, timeout=settings.deadline_seconds)
    singles: dict[str, list[float]] = {check.name: [] for check in checks}
    concurrent: list[float] = []
    for _ in range(runs):
        for check in checks:
            (result,) = run_checks([check], timeout=settings.deadline_seconds)
            singles[check.name].append(result.latency_ms)
        started = time.perf_counter()
        run_checks(checks, timeout=settings.deadline_seconds)
        concurrent.append((time.perf_counter() - started) * 1000)
    return RunTimes(
        singles_ms={name: statistics.median(values) for name, values in singles.items()},
        concurrent_ms=statistics.median(concurrent),
        concurrent_max_ms=max(concurrent),
        deadline_ms=settings.deadline_seconds * 1000,
    )


def run_time_figures(label: str, times: RunTimes) -> list[Figure]:
    """The concurrent run beside the slowest single check (its floor) and the sequential run; never past the
    deadline (worst run)."""
    slowest_name, slowest_ms = max(times.singles_ms.items(), key=lambda item: item[1])
    note = f"worst run {times.concurrent_max_ms:.0f} ms, deadline {times.deadline_ms:.0f} ms"
    return [
        Figure(
            f"all checks concurrently, {label}",
            times.concurrent_ms,
            "ms",
            f"slowest single check ({slowest_name})",
            slowest_ms,
            f"worst run < deadline ({times.deadline_ms:.0f} ms)",
            times.concurrent_max_ms < times.deadline_ms,
            note,
        ),
        Figure(
            f"all checks concurrently, {label}",
            times.concurrent_ms,
            "ms",
            "the checks one after another (sum)",
            sum(times.singles_ms.values()),
        ),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="health runs per run-time measure")
    parser.add_argument("--quick", action="store_true", help="3 runs per measure")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for bench/run_all.py)")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else args.runs

    with servers_in_child_process() as (moto_url, simulator_url):
        os.environ.update({**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": moto_url, "POWERTOOLS_METRICS_DISABLED": "true"})
        os.environ.update(create_health_resources(simulator_url).environment)
        figures = run_time_figures("local moto server and simulator", run_times(runs))
        fault = {"delay": PAGERDUTY_LATENCY_SECONDS, "count": None}
        httpx.post(
            f"{simulator_url}/_sim/faults", json=fault, headers=SIMULATOR_CONTROL_HEADERS, timeout=10
        ).raise_for_status()
        label = f"PagerDuty at {PAGERDUTY_LATENCY_SECONDS * 1000:.0f} ms"
        figures += run_time_figures(label, run_times(runs))
    emit(figures, as_json=args.json)


if __name__ == "__main__":
    main()
