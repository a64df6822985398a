"""Benchmark of the alert forwarder (a script, not a test): each figure beside its baseline, in the same run.

1. AWS API calls per forwarded alert on the healthy path, counted with botocore ``before-call`` hooks over
   batches of 10 (warm container), against a naive design that does per alert: idempotency GetItem, an
   in-progress PutItem, a limiter UpdateItem, a circuit GetItem and a completion PutItem. Target <= 1.5.
2. Wall time of one batch of 100 alerts against the simulator at 50 ms latency, against the same forwarder
   invoked one record at a time. Ten routing keys carry ten alerts each, so every key stays inside PagerDuty's
   budget (120/min, burst 20) without raising the limit. Target: <= 1/10 of the baseline.
3. Peak memory of a warm invocation (batch of 10): tracemalloc peak and the process's max RSS. Target < 100 MB.

The cold start of every handler is measured the same way by bench/cold_start.py.

    .venv/bin/python bench/bench_forwarder.py [--batches 5]

The embedded AWS (moto) and the PagerDuty simulator run in a child process, as AWS and PagerDuty are remote
and must not share this interpreter's GIL. Log and EMF lines go to /dev/null.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import boto3
import httpx

from pdutils.child_servers import SIMULATOR_CONTROL_HEADERS, servers_in_child_process

REPOSITORY = Path(__file__).resolve().parents[1]
SIMULATED_LATENCY_SECONDS = 0.05
BATCH = 10
LARGE_BATCH = 100
ROUTING_KEY_COUNT = 10
LARGE_BATCH_CONCURRENCY = 25
TEAMS = [f"team-{index}" for index in range(ROUTING_KEY_COUNT)]
ROUTING_KEYS = {team: chr(ord("A") + index) * 32 for index, team in enumerate(TEAMS)}
ROUTING_RULES = json.dumps(
    {
        "rules": [{"match": {"tags": {"team": team}}, "routing_key": team} for team in TEAMS],
        "default": {"routing_key": TEAMS[0]},
    }
)


# ---------------------------------------------------------------------------------------------- servers


@dataclass(frozen=True)
class Servers:
    aws_url: str
    pagerduty_url: str

    def reset(self) -> None:
        httpx.post(f"{self.aws_url}/moto-api/reset", timeout=10).raise_for_status()
        httpx.post(f"{self.pagerduty_url}/_sim/reset", headers=SIMULATOR_CONTROL_HEADERS, timeout=10).raise_for_status()

    def latency(self, seconds: float) -> None:
        fault = {"delay": seconds, "count": None, "path_prefix": "/v2/enqueue"}
        httpx.post(
            f"{self.pagerduty_url}/_sim/faults", json=fault, headers=SIMULATOR_CONTROL_HEADERS, timeout=10
        ).raise_for_status()

    def accepted_events(self) -> int:
        state = httpx.get(f"{self.pagerduty_url}/_sim/state", headers=SIMULATOR_CONTROL_HEADERS, timeout=30).json()
        return sum(1 for request in state["requests"] if request["path"] == "/v2/enqueue" and request["status"] == 202)


@contextlib.contextmanager
def running_servers() -> Iterator[Servers]:
    """No OpenAPI validation in the simulator: the forwarder is what is measured."""
    with servers_in_child_process(validate=False) as (aws_url, pagerduty_url):
        yield Servers(aws_url, pagerduty_url)


def provision(servers: Servers) -> tuple[Any, dict[str, str]]:
    """A clean stack; the environment a deployed forwarder would get, pointed at the servers."""
    from pdutils.testing.forwarder import provision_forwarder_stack  # noqa: PLC0415

    servers.reset()
    os.environ.update(aws_environment(servers))
    stack, environment = provision_forwarder_stack(
        servers.aws_url, routing_keys=ROUTING_KEYS, routing_rules=ROUTING_RULES
    )
    os.environ.update(environment)
    from pagerduty_utils import secrets  # noqa: PLC0415

    secrets.clear_cache()
    return stack, {**aws_environment(servers), **environment}


def aws_environment(servers: Servers) -> dict[str, str]:
    from pdutils.moto_server import LOCAL_CREDENTIALS  # noqa: PLC0415

    return {
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": servers.aws_url,
        "PAGERDUTY_EVENTS_URL": servers.pagerduty_url,
        "PAGERDUTY_API_URL": servers.pagerduty_url,
    }


def publish(stack: Any, prefix: str, count: int, teams: list[str] = TEAMS) -> None:
    """``count`` alerts, spread over the routing keys of ``teams`` in turn."""
    from pdutils.testing.forwarder import application_alert  # noqa: PLC0415

    for index in range(count):
        alert = application_alert(f"{prefix}-{index}", team=teams[index % len(teams)], second=index)
        stack.publish(json.dumps(alert))


def forward_queued(stack: Any, forwarder: Any, batch: int) -> int:
    """Receive ``batch`` records, forward them in one invocation, delete what succeeded; return failures."""
    from pdutils.testing.forwarder import LambdaContextStub  # noqa: PLC0415

    event = stack.receive_batch(max_records=batch)
    response = forwarder.handle(event, LambdaContextStub(seconds_left=60))
    failed: int = stack.settle(event, response)
    return failed


# ---------------------------------------------------------------------------------------- 1. AWS calls


class CallCounter:
    """Counts the AWS API calls of every boto3 client created while installed (botocore ``before-call``)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        original = boto3.session.Session.client

        def counted_client(session: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-call", self._count)
            return client

        boto3.DEFAULT_SESSION = None
        boto3.session.Session.client = counted_client  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            boto3.session.Session.client = original  # type: ignore[method-assign]
            boto3.DEFAULT_SESSION = None

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def take(self) -> Counter[str]:
        taken, self.calls = self.calls, Counter()
        return taken


class NaiveForwarder:
    """The baseline design: per alert, idempotency read + in-progress write, limiter write, circuit read,
    send, completion write. Same table, same simulator, same mapping and routing."""

    def __init__(self, table: str) -> None:
        from pagerduty_utils.alert_forwarder.routing import RoutingPlanner, secret_routing_keys  # noqa: PLC0415
        from pagerduty_utils.api_client import EventsClient  # noqa: PLC0415
        from pagerduty_utils.config_parser import RoutingRules  # noqa: PLC0415
        from pagerduty_utils.data_transformer import TransformOptions  # noqa: PLC0415
        from pagerduty_utils.settings import ForwarderSettings, load_settings  # noqa: PLC0415

        settings = load_settings(ForwarderSettings)
        self._table = table
        self._dynamodb = boto3.client("dynamodb")
        self._planner = RoutingPlanner(
            RoutingRules.from_settings(settings),
            secret_routing_keys(settings.routing_keys_secret_id, max_age=300),
            TransformOptions(),
        )
        self._client = EventsClient(settings.events_base_url)

    def handle(self, event: dict[str, Any], _context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            for alert in self._planner.plan(record).events:
                key = {"pk": {"S": f"idempotency#{alert.dedup_key}#{alert.occurred_at}"}}
                if "Item" in self._dynamodb.get_item(TableName=self._table, Key=key):
                    continue
                self._dynamodb.put_item(TableName=self._table, Item={**key, "status": {"S": "IN_PROGRESS"}})
                self._dynamodb.update_item(
                    TableName=self._table,
                    Key={"pk": {"S": f"rate#{alert.routing_key[:4]}"}},
                    UpdateExpression="ADD tokens :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
                self._dynamodb.get_item(TableName=self._table, Key={"pk": {"S": "circuit#pagerduty"}})
                self._client.send(alert)
                self._dynamodb.put_item(TableName=self._table, Item={**key, "status": {"S": "COMPLETED"}})
        return {"batchItemFailures": []}


def measure_calls(
    servers: Servers, build: Callable[[str], Any], batches: int, teams: list[str]
) -> tuple[float, Counter[str]]:
    """AWS calls per forwarded alert over ``batches`` warm batches of 10 (after one warm-up batch).

    Only the forwarder's clients are counted: the harness's own receive/delete (the event source mapping's
    work in Lambda) use clients created before counting starts.
    """
    os.environ["RATE_LIMIT_PER_MINUTE"] = "1200"  # burst 200: the measured alerts all fit in one key's bucket
    stack, _ = provision(servers)
    counter = CallCounter()
    with counter.installed():
        forwarder = build(stack.table.name)
    publish(stack, "warm-up", BATCH, teams)
    forward_queued(stack, forwarder, BATCH)
    publish(stack, "healthy", BATCH * batches, teams)
    forwarded_before = servers.accepted_events()
    counter.take()
    for _ in range(batches):
        forward_queued(stack, forwarder, BATCH)
    forwarded = servers.accepted_events() - forwarded_before
    calls = counter.take()
    del os.environ["RATE_LIMIT_PER_MINUTE"]
    return sum(calls.values()) / forwarded, calls


def build_forwarder_for_bench(_table: str) -> Any:
    from pagerduty_utils.alert_forwarder.wiring import build_forwarder  # noqa: PLC0415
    from pagerduty_utils.settings import ForwarderSettings, load_settings  # noqa: PLC0415

    return build_forwarder(load_settings(ForwarderSettings))


# --------------------------------------------------------------------------------------- 2. throughput


def measure_large_batch(servers: Servers) -> tuple[float, float, int, int]:
    """Seconds for 100 alerts in one invocation, and one record per invocation; alerts delivered by each."""
    os.environ["DELIVERY_CONCURRENCY"] = str(LARGE_BATCH_CONCURRENCY)
    try:
        batched = _time_forwarding(servers, batch=LARGE_BATCH)
    finally:
        del os.environ["DELIVERY_CONCURRENCY"]
    one_by_one = _time_forwarding(servers, batch=1)
    return batched[0], one_by_one[0], batched[1], one_by_one[1]


def _time_forwarding(servers: Servers, batch: int) -> tuple[float, int]:
    """Seconds to forward LARGE_BATCH alerts in invocations of ``batch`` records, in a warm container."""
    from pdutils.testing.forwarder import LambdaContextStub  # noqa: PLC0415

    stack, _ = provision(servers)
    servers.latency(SIMULATED_LATENCY_SECONDS)
    forwarder = build_forwarder_for_bench(stack.table.name)
    publish(stack, "warm-up", 1)
    forward_queued(stack, forwarder, 1)
    warm_up_sent = servers.accepted_events()
    publish(stack, f"batch-{batch}", LARGE_BATCH)
    events = [stack.receive_batch(max_records=batch) for _ in range(LARGE_BATCH // batch)]
    started = time.perf_counter()
    for event in events:
        forwarder.handle(event, LambdaContextStub(seconds_left=60))
    elapsed = time.perf_counter() - started
    return elapsed, servers.accepted_events() - warm_up_sent


# -------------------------------------------------------------------------------------------- 3. memory


MEMORY_CHILD = """
import json, sys, tracemalloc
from functions.alert_forwarder import app

class LambdaContextStub:
    function_name = "alert-forwarder"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:alert-forwarder"
    aws_request_id = "bench"

    def __init__(self, seconds_left):
        self.seconds_left = seconds_left

    def get_remaining_time_in_millis(self):
        return int(self.seconds_left * 1000)

def peak_rss_kb():
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmHWM")).split()[1])

events = json.loads(sys.stdin.read())
app.lambda_handler(events[0], LambdaContextStub(seconds_left=60))
tracemalloc.start()
app.lambda_handler(events[1], LambdaContextStub(seconds_left=60))
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({"peak": peak, "peak_rss_kb": peak_rss_kb()}))
"""


def child_env(environment: dict[str, str]) -> dict[str, str]:
    """A fresh interpreter's environment: the forwarder's, tracing off, the repository importable."""
    return {**os.environ, **environment, "POWERTOOLS_TRACE_DISABLED": "true", "PYTHONPATH": str(REPOSITORY)}


def measure_memory(servers: Servers) -> tuple[float, float]:
    """MB: tracemalloc peak of a warm invocation (batch of 10), and the child process's peak RSS (VmHWM, which
    unlike ``ru_maxrss`` does not count the parent's pages from before ``exec``)."""
    stack, environment = provision(servers)
    publish(stack, "memory", 2 * BATCH)
    events = [stack.receive_batch(max_records=BATCH) for _ in range(2)]
    output = subprocess.run(  # noqa: S603  # our own interpreter with our own script
        [sys.executable, "-c", MEMORY_CHILD],
        env=child_env(environment),
        input=json.dumps(events),
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(output.stdout.strip().splitlines()[-1])
    return figures["peak"] / 2**20, figures["peak_rss_kb"] / 1024


# --------------------------------------------------------------------------------------------- report


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Forwarder logs and EMF lines go to stdout; keep the report readable. The Logger keeps the stream it
    first saw, so the same /dev/null stays open for the whole run."""
    with contextlib.redirect_stdout(_devnull()):
        yield


@functools.cache
def _devnull() -> TextIO:
    return open(os.devnull, "w")  # open for the process's life: the Logger holds it


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--batches", type=int, default=5, help="warm batches of 10 for the call count")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str, str]] = []
    with running_servers() as servers:
        calls_detail = []
        for teams, label in ((TEAMS[:1], "one routing key"), (TEAMS, "10 routing keys in every batch")):
            with quiet_stdout():
                ours, our_calls = measure_calls(servers, build_forwarder_for_bench, args.batches, teams)
                naive, naive_calls = measure_calls(servers, NaiveForwarder, args.batches, teams)
            rows.append(
                (
                    f"AWS API calls per forwarded alert, healthy, batches of 10 ({label})",
                    f"{ours:.2f}",
                    f"{naive:.2f} (naive design)",
                    "<= 1.5",
                    _verdict(ours <= 1.5),
                )
            )
            calls_detail.append(f"{label}: forwarder {dict(our_calls)}, naive {dict(naive_calls)}")
        with quiet_stdout():
            batched, one_by_one, batched_sent, single_sent = measure_large_batch(servers)
        rows.append(
            (
                f"100 alerts, 10 routing keys, PagerDuty at {SIMULATED_LATENCY_SECONDS * 1000:.0f} ms (wall)",
                f"{batched:.2f} s ({batched_sent} sent)",
                f"{one_by_one:.2f} s one record per invocation ({single_sent} sent)",
                "<= 1/10",
                f"1/{one_by_one / batched:.1f} " + _verdict(batched * 10 <= one_by_one),
            )
        )
        peak_mb, rss_mb = measure_memory(servers)
        rows.append(
            (
                "Warm invocation memory (batch of 10)",
                f"{rss_mb:.0f} MB peak RSS",
                f"{peak_mb:.1f} MB allocated during the invocation (tracemalloc peak)",
                "< 100 MB",
                _verdict(rss_mb < 100),
            )
        )
    print("| Figure | Forwarder | Baseline | Target | Result |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    for line in calls_detail:
        print(f"AWS calls per operation over the measured batches, {line}")
    return 0


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
