"""The embedded AWS and the PagerDuty simulator in a child process, for benchmarks.

In a process of their own the servers do not share the measured interpreter's GIL, so what is timed is the
code under test, not the servers answering it. Requests to the simulator's ``/_sim/`` control plane carry
``SIMULATOR_CONTROL_HEADERS``.
"""

from __future__ import annotations

import multiprocessing
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

from pdutils.simulator.config import CONTROL_TOKEN_HEADER

STARTUP_TIMEOUT_SECONDS = 120
_CONTROL_TOKEN = secrets.token_urlsafe(24)
SIMULATOR_CONTROL_HEADERS = {CONTROL_TOKEN_HEADER: _CONTROL_TOKEN}


def _serve(addresses: Connection, stop: Event, validate: bool, control_token: str) -> None:
    from pdutils.moto_server import running_moto_server  # noqa: PLC0415 - imported in the child only
    from pdutils.simulator import SimulatorConfig, running_simulator  # noqa: PLC0415

    config = SimulatorConfig(validate=validate, control_token=control_token)
    with running_moto_server() as aws, running_simulator(config=config) as simulator:
        addresses.send((aws.url, simulator.base_url))
        stop.wait()


@contextmanager
def servers_in_child_process(*, validate: bool = True) -> Iterator[tuple[str, str]]:
    """Yields (AWS endpoint URL, simulator URL); ``validate`` turns the simulator's OpenAPI checks on or off."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    stop = context.Event()
    process = context.Process(target=_serve, args=(sender, stop, validate, _CONTROL_TOKEN), daemon=True)
    process.start()
    try:
        if not receiver.poll(STARTUP_TIMEOUT_SECONDS):
            raise RuntimeError(f"the embedded AWS and simulator did not start within {STARTUP_TIMEOUT_SECONDS} s")
        aws_url, simulator_url = receiver.recv()
        yield str(aws_url), str(simulator_url)
    finally:
        stop.set()
        process.join(timeout=10)
