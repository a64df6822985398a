"""The embedded AWS and the PagerDuty simulator in child processes, for benchmarks.

Each server runs in a process of its own: neither shares the measured interpreter's GIL, nor each other's (AWS
and PagerDuty are separate remote services, and a DynamoDB transaction the embedded AWS spends CPU on must not
hold back the simulator's answers), so what is timed is the code under test, not the servers answering it.
Requests to the simulator's ``/_sim/`` control plane carry ``SIMULATOR_CONTROL_HEADERS``.
"""

from __future__ import annotations

import multiprocessing
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

from pdutils.simulator.config import CONTROL_TOKEN_HEADER

STARTUP_TIMEOUT_SECONDS = 120
_CONTROL_TOKEN = secrets.token_hex(24)
SIMULATOR_CONTROL_HEADERS = {CONTROL_TOKEN_HEADER: _CONTROL_TOKEN}


def _serve_aws(address: Connection, stop: Event) -> None:
    from pdutils.moto_server import running_moto_server  # noqa: PLC0415 - imported in the child only

    with running_moto_server() as aws:
        address.send(aws.url)
        stop.wait()


def _serve_simulator(address: Connection, stop: Event, validate: bool, control_token: str) -> None:
    from pdutils.simulator import SimulatorConfig, running_simulator  # noqa: PLC0415 - imported in the child only

    config = SimulatorConfig(validate=validate, control_token=control_token)
    with running_simulator(config=config) as simulator:
        address.send(simulator.base_url)
        stop.wait()


@contextmanager
def _child_server(name: str, target: Callable[..., None], *args: object) -> Iterator[str]:
    """Starts ``target(address, stop, *args)`` in a child process; yields the URL it sends back."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    stop = context.Event()
    process = context.Process(target=target, args=(sender, stop, *args), daemon=True)
    process.start()
    try:
        if not receiver.poll(STARTUP_TIMEOUT_SECONDS):
            raise RuntimeError(f"{name} did not start within {STARTUP_TIMEOUT_SECONDS} s")
        yield str(receiver.recv())
    finally:
        stop.set()
        process.join(timeout=10)


@contextmanager
def servers_in_child_process(*, validate: bool = True) -> Iterator[tuple[str, str]]:
    """Yields (AWS endpoint URL, simulator URL); ``validate`` turns the simulator's OpenAPI checks on or off."""
    with ExitStack() as servers:
        aws_url = servers.enter_context(_child_server("the embedded AWS", _serve_aws))
        simulator_url = servers.enter_context(
            _child_server("the PagerDuty simulator", _serve_simulator, validate, _CONTROL_TOKEN)
        )
        yield aws_url, simulator_url
