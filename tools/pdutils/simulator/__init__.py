"""A PagerDuty simulator for tests and the local stack (dev-only: never shipped in the Lambda layer).

It serves the Events API v2 and the REST API v2 endpoints the project uses on one base URL, validates every
request against PagerDuty's official OpenAPI files, sends signed Webhooks v3, injects faults on demand and
exposes what it saw. See docs/simulator.md.
"""

from pdutils.simulator.config import DEV_TOKEN, SimulatorConfig
from pdutils.simulator.faults import Fault, FaultInjector
from pdutils.simulator.server import SimulatorHandle, running_simulator
from pdutils.simulator.state import DEFAULT_SERVICE_ID, SimulatorState

__all__ = [
    "DEFAULT_SERVICE_ID",
    "DEV_TOKEN",
    "Fault",
    "FaultInjector",
    "SimulatorConfig",
    "SimulatorHandle",
    "SimulatorState",
    "running_simulator",
]
