"""Fixtures for every suite. Servers (moto, the PagerDuty simulator) start on free ports and stop after."""

from __future__ import annotations

pytest_plugins = [
    "pdutils.testing.aws",
    "pdutils.testing.forwarder",
    "pdutils.testing.simulator",
    "pdutils.testing.health",
    "pdutils.testing.redis_server",
    "pdutils.testing.tracing",
]
