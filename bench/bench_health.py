"""Benchmark of the health checker (a script, not a test).

1. Cold start: a fresh interpreter importing the handler (``functions/health_checker/app.py``, as Lambda's init
   does) against one running ``import boto3``, with POWERTOOLS_TRACE_DISABLED=true. Target: <= 1.5x. Also
   shown: the bare interpreter, the first invocation's setup (settings and clients, no I/O), and where the
   handler's import time goes, by package (``-X importtime``).
2. Run time against the local stack (moto server and PagerDuty simulator, in a child process so they do not
   share this interpreter's GIL): every check alone, then all of them concurrently. Target: the concurrent run
   close to the slowest single check, never past the deadline. Repeated with 300 ms of PagerDuty latency.

    .venv/bin/python bench/bench_health.py [--rounds 11] [--runs 7]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

import httpx

from pagerduty_utils.health_monitor.runner import run_checks
from pagerduty_utils.health_monitor.wiring import HealthDependencies, build_checks
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.settings import HealthSettings, load_settings
from pdutils.moto_server import LOCAL_CREDENTIALS, running_moto_server
from pdutils.simulator import running_simulator
from pdutils.testing.health import create_health_resources

ROOT = Path(__file__).resolve().parents[1]
HANDLER_DIRECTORY = ROOT / "functions" / "health_checker"
PAGERDUTY_LATENCY_SECONDS = 0.3

SETTINGS_FOR_SETUP = {
    "STATE_TABLE_NAME": "bench-state",
    "PAGERDUTY_API_TOKEN_SECRET_ID": "pd/api-token",
    "HEALTH_SECRET_IDS": "pd/routing-keys",
    "KMS_KEY_ID": "alias/bench",
    "ALERT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/alerts",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/alerts-dlq",
    "OPERATIONS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:operations",
}

COLD_START_PROGRAMS = {
    "bare interpreter (`pass`)": "pass",
    "`import boto3`": "import boto3",
    "health checker: import the handler": "import app",
    "health checker: import + first-invocation setup (no I/O)": "import app; app._default_monitor()",
    # The dev virtualenv has httpx's optional command-line dependencies; the Lambda layer does not.
    "health checker: import the handler, as in the layer (no click, rich, pygments)": (
        "import sys; sys.modules.update(click=None, rich=None, pygments=None); import app"
    ),
}
HTTPX_GROUP = "httpx, httpcore (+ click, rich, pygments: dev virtualenv only)"
IMPORT_GROUPS = {
    "aws_xray_sdk": "X-Ray SDK (Powertools Tracer; builds two botocore clients at import)",
    "botocore": "botocore + boto3",
    "boto3": "botocore + boto3",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "aws_lambda_powertools": "Powertools (Logger, Metrics, Parameters, circuit-breaker states)",
    "httpx": HTTPX_GROUP,
    "httpcore": HTTPX_GROUP,
    # httpx imports its command line (click, rich, pygments) when they are installed: they are in the dev
    # virtualenv (other tools bring them), not in the Lambda layer.
    "click": HTTPX_GROUP,
    "rich": HTTPX_GROUP,
    "pygments": HTTPX_GROUP,
    "cryptography": "cryptography",
    "pagerduty_utils": "pagerduty_utils (this project)",
}


def cold_start_environment() -> dict[str, str]:
    return {
        **os.environ,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": str(HANDLER_DIRECTORY),
        **SETTINGS_FOR_SETUP,
    }


@dataclass(frozen=True)
class ColdStart:
    wall_seconds: float
    cpu_seconds: float
    """User + system CPU time of the child: what the machine's other load disturbs least."""


def cold_starts(rounds: int) -> dict[str, ColdStart]:
    """Medians of a fresh interpreter per program; rounds interleave the programs."""
    environment = cold_start_environment()
    walls: dict[str, list[float]] = {label: [] for label in COLD_START_PROGRAMS}
    cpus: dict[str, list[float]] = {label: [] for label in COLD_START_PROGRAMS}
    for _ in range(rounds):
        for label, program in COLD_START_PROGRAMS.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", program], env=environment, check=True)  # noqa: S603  # fixed programs
            walls[label].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[label].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {label: ColdStart(statistics.median(walls[label]), statistics.median(cpus[label])) for label in walls}


def handler_import_breakdown() -> dict[str, float]:
    """Milliseconds of the handler's import spent in each group of modules (``-X importtime`` self times)."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        env=cold_start_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    groups: dict[str, float] = {}
    for line in completed.stderr.splitlines()[1:]:
        _, self_us, _, name = (part.strip() for part in line.replace(":", "|", 1).split("|"))
        group = IMPORT_GROUPS.get(name.split(".")[0], "standard library and the rest")
        groups[group] = groups.get(group, 0.0) + int(self_us) / 1000
    return dict(sorted(groups.items(), key=lambda item: -item[1]))


def serve_local_stack(addresses: Connection, stop: Event) -> None:
    with running_moto_server() as moto, running_simulator() as simulator:
        addresses.send((moto.url, simulator.base_url))
        stop.wait()


@contextlib.contextmanager
def local_stack_process() -> Iterator[tuple[str, str]]:
    """The moto server and the simulator in a child process; yields (AWS endpoint, simulator URL)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    stop = context.Event()
    process = context.Process(target=serve_local_stack, args=(sender, stop), daemon=True)
    process.start()
    try:
        if not receiver.poll(120):
            raise RuntimeError("the local stack did not start within 120 s")
        moto_url, simulator_url = receiver.recv()
        yield str(moto_url), str(simulator_url)
    finally:
        stop.set()
        process.join(timeout=10)


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


def print_cold_start(results: dict[str, ColdStart], rounds: int) -> None:
    boto3 = results["`import boto3`"]
    print(f"Cold start: median of {rounds} fresh interpreters each, POWERTOOLS_TRACE_DISABLED=true")
    print()
    print("| program | CPU time | vs `import boto3` | wall time | vs `import boto3` |")
    print("|---|---|---|---|---|")
    for label, value in results.items():
        print(
            f"| {label} | {value.cpu_seconds * 1000:.0f} ms | {value.cpu_seconds / boto3.cpu_seconds:.2f}x "
            f"| {value.wall_seconds * 1000:.0f} ms | {value.wall_seconds / boto3.wall_seconds:.2f}x |"
        )
    print()


def print_import_breakdown(groups: dict[str, float]) -> None:
    total = sum(groups.values())
    print(f"Where the handler's import goes (`-X importtime`, one run, {total:.0f} ms in all)")
    print()
    print("| modules | import time | share |")
    print("|---|---|---|")
    for group, milliseconds in groups.items():
        print(f"| {group} | {milliseconds:.0f} ms | {milliseconds / total:.0%} |")
    print()


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
    parser.add_argument("--rounds", type=int, default=11, help="fresh interpreters per cold-start program")
    parser.add_argument("--runs", type=int, default=7, help="health runs per run-time measure")
    args = parser.parse_args(argv)

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print()
    print_cold_start(cold_starts(args.rounds), args.rounds)
    print_import_breakdown(handler_import_breakdown())

    with local_stack_process() as (moto_url, simulator_url):
        os.environ.update({**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": moto_url, "POWERTOOLS_METRICS_DISABLED": "true"})
        os.environ.update(create_health_resources(simulator_url).environment)
        print_run_times("local moto server and simulator", run_times(args.runs))
        fault = {"delay": PAGERDUTY_LATENCY_SECONDS, "count": None}
        httpx.post(f"{simulator_url}/_sim/faults", json=fault, timeout=10).raise_for_status()
        print_run_times(f"with {PAGERDUTY_LATENCY_SECONDS * 1000:.0f} ms PagerDuty latency", run_times(args.runs))


if __name__ == "__main__":
    main()
