"""Benchmark of the health checker (a script, not a test).

Run time against the local stack (moto server and PagerDuty simulator, in a child process so they do not share
this interpreter's GIL): every check alone, then all of them concurrently. Target: the concurrent run close to
the slowest single check, never past the deadline. Repeated with 300 ms of PagerDuty latency.

The cold start of every handler is measured the same way by bench/bench_cold_start.py.

    .venv/bin/python bench/bench_health.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from pagerduty_utils.health_monitor.runner import run_checks
from pagerduty_utils.health_monitor.wiring import HealthDependencies, build_checks
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.settings import HealthSettings, load_settings
from pdutils.child_servers import servers_in_child_process
from pdutils.moto_server import LOCAL_CREDENTIALS
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


def print_run_times(label: str, times: RunTimes) -> None:
    slowest_name, slowest_ms = max(times.singles_ms.items(), key=lambda item: item[1])
    total_ms = sum(times.singles_ms.values())
    print(f"Run time, {label}: median of the runs")
    print()
    print("| measure | value |")
    print("|---|---|")
    for name, value in times.singles_ms.items():
        print(f"| {name} alone | {value:.0f} ms |")
    print(f"| sum of the checks alone (a sequential run) | {total_ms:.0f} ms |")
    print(f"| slowest single check ({slowest_name}) | {slowest_ms:.0f} ms |")
    print(
        f"| all checks concurrently | {times.concurrent_ms:.0f} ms "
        f"({times.concurrent_ms / slowest_ms:.2f}x the slowest; worst run {times.concurrent_max_ms:.0f} ms, "
        f"deadline {times.deadline_ms:.0f} ms) |"
    )
    print()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="health runs per run-time measure")
    args = parser.parse_args(argv)

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print()

    with servers_in_child_process() as (moto_url, simulator_url):
        os.environ.update({**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": moto_url, "POWERTOOLS_METRICS_DISABLED": "true"})
        os.environ.update(create_health_resources(simulator_url).environment)
        print_run_times("local moto server and simulator", run_times(args.runs))
        fault = {"delay": PAGERDUTY_LATENCY_SECONDS, "count": None}
        httpx.post(f"{simulator_url}/_sim/faults", json=fault, timeout=10).raise_for_status()
        print_run_times(f"with {PAGERDUTY_LATENCY_SECONDS * 1000:.0f} ms PagerDuty latency", run_times(args.runs))


if __name__ == "__main__":
    main()
