"""Benchmark of the PagerDuty Events client against the simulator (a script, not a test).

1. Overhead: one event at a time over one pooled connection, the client (limits, serialisation, retry
   bookkeeping, EMF metric) against a bare ``httpx.Client.post`` of the same JSON (prepared outside the
   timing). Target: <= 1.2x.
2. Concurrency: events per second at 50 ms simulated PagerDuty latency, ``AsyncEventsClient`` with
   ``asyncio.gather`` (CONCURRENCY in flight) against a one-at-a-time loop. Target: >= 10x.

    .venv/bin/python bench/bench_client.py [--events 300] [--rounds 5] [--validate] [--quick] [--json]

The simulator runs in a child process (as PagerDuty is remote, it does not share this interpreter's GIL),
without OpenAPI validation unless ``--validate``: a faster server makes the client's own overhead more visible.
EMF metric lines go to /dev/null so the console stays readable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

import httpx

from pagerduty_utils.api_client import AsyncEventsClient, EventsClient
from pagerduty_utils.api_client.limits import fit_alert
from pagerduty_utils.pagerduty_events import AlertEvent
from pdutils.simulator import SimulatorConfig, running_simulator
from pdutils.testing.bench_report import Figure, emit, ratio_figure

ROUTING_KEY = "R" * 32
SIMULATED_LATENCY_SECONDS = 0.05
# Events in flight at once. 20 at 50 ms is up to 400 events/s; beyond that, on a two-core machine, the
# simulator's one-thread-per-connection server (not the client) becomes what is measured.
CONCURRENCY = 20


def make_event(index: int) -> AlertEvent:
    return AlertEvent.model_validate(
        {
            "routing_key": ROUTING_KEY,
            "event_action": "trigger",
            "dedup_key": f"bench-{index % 50}",
            "payload": {
                "summary": f"CPUUtilization > 90 for i-{index:08x}",
                "source": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu-high",
                "severity": "critical",
                "component": "ec2",
                "custom_details": {"threshold": 90, "datapoints": [91.2, 93.4, 95.0], "region": "eu-west-1"},
            },
            "links": [{"href": "https://console.aws.amazon.com/cloudwatch", "text": "Alarm"}],
        }
    )


def serve_simulator(config: SimulatorConfig, address: Connection, stop: Event) -> None:
    with running_simulator(config=config) as handle:
        address.send(handle.base_url)
        stop.wait()


@contextlib.contextmanager
def simulator_process(config: SimulatorConfig) -> Iterator[str]:
    """A simulator in a child process; yields its base URL and stops it on exit."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    stop = context.Event()
    process = context.Process(target=serve_simulator, args=(config, sender, stop), daemon=True)
    process.start()
    try:
        if not receiver.poll(60):
            raise RuntimeError("the simulator did not start within 60 s")
        yield str(receiver.recv())
    finally:
        stop.set()
        process.join(timeout=10)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        yield


def timed(call: Callable[[AlertEvent], object], event: AlertEvent) -> float:
    started = time.perf_counter()
    call(event)
    return time.perf_counter() - started


def overhead(base_url: str, count: int, rounds: int) -> tuple[float, float]:
    """Median seconds per event: (bare httpx POST, EventsClient.send).

    The two are timed alternately, event by event, so both see the same load on a shared machine; medians
    keep the odd scheduling hiccup out of the figure.
    """
    events = [make_event(index) for index in range(count)]
    url = f"{base_url}/v2/enqueue"
    bare_times, client_times = [], []
    with httpx.Client() as http_client:
        client = EventsClient(base_url, http_client=http_client)
        bodies = {id(event): fit_alert(event).body for event in events}

        def bare_post(event: AlertEvent) -> None:
            http_client.post(url, json=bodies[id(event)]).raise_for_status()

        for round_number in range(rounds + 1):
            for event in events:
                bare = timed(bare_post, event)
                sent = timed(client.send, event)
                if round_number:  # the first round warms connections and caches up
                    bare_times.append(bare)
                    client_times.append(sent)
    return statistics.median(bare_times), statistics.median(client_times)


async def throughput(
    base_url: str, control_headers: dict[str, str], sequential_count: int, concurrent_count: int
) -> tuple[float, float]:
    """Events per second at 50 ms latency: (one at a time, concurrent with up to CONCURRENCY in flight)."""
    fault = {"delay": SIMULATED_LATENCY_SECONDS, "count": None}
    httpx.post(f"{base_url}/_sim/faults", json=fault, headers=control_headers).raise_for_status()
    client = AsyncEventsClient(base_url)
    started = time.perf_counter()
    for index in range(sequential_count):
        await client.send(make_event(index))
    sequential_rate = sequential_count / (time.perf_counter() - started)

    gate = asyncio.Semaphore(CONCURRENCY)

    async def send(index: int) -> None:
        async with gate:
            await client.send(make_event(index))

    started = time.perf_counter()
    await asyncio.gather(*(send(index) for index in range(concurrent_count)))
    concurrent_rate = concurrent_count / (time.perf_counter() - started)
    httpx.delete(f"{base_url}/_sim/faults", headers=control_headers).raise_for_status()
    return sequential_rate, concurrent_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=300, help="events per overhead round")
    parser.add_argument("--rounds", type=int, default=5, help="overhead rounds (median reported)")
    parser.add_argument("--sequential", type=int, default=60, help="events in the one-at-a-time loop")
    parser.add_argument("--concurrent", type=int, default=600, help="events sent concurrently")
    parser.add_argument("--validate", action="store_true", help="validate requests against the OpenAPI files")
    parser.add_argument("--quick", action="store_true", help="100 events per round, 2 rounds, 200 concurrent")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for bench/run_all.py)")
    args = parser.parse_args()
    if args.quick:
        args.events, args.rounds, args.concurrent = 100, 2, 200

    config = SimulatorConfig(validate=args.validate, events_rate_limit_per_minute=10**9)
    with simulator_process(config) as base_url, quiet_stdout():
        bare, client = overhead(base_url, args.events, args.rounds)
        sequential_rate, concurrent_rate = asyncio.run(
            throughput(base_url, config.control_headers, args.sequential, args.concurrent)
        )

    figures = [
        replace(
            ratio_figure(
                "time per event, one at a time, EventsClient.send",
                client * 1e6,
                "us",
                "bare httpx POST of the same JSON",
                bare * 1e6,
                at_most=1.2,
            ),
            note=f"simulator validation {'on' if args.validate else 'off'}",
        ),
        Figure(
            f"events/s at {SIMULATED_LATENCY_SECONDS * 1000:.0f} ms, AsyncEventsClient, {CONCURRENCY} in flight",
            concurrent_rate,
            "/s",
            "one-at-a-time loop",
            sequential_rate,
            ">= 10x",
            concurrent_rate >= 10 * sequential_rate,
        ),
    ]
    emit(figures, as_json=args.json)


if __name__ == "__main__":
    main()
