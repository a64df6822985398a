"""Fixtures for every suite. Servers (moto, the PagerDuty simulator) start on free ports and stop after."""

from __future__ import annotations

from hypothesis import settings

pytest_plugins = [
    "pdutils.testing.aws",
    "pdutils.testing.forwarder",
    "pdutils.testing.simulator",
    "pdutils.testing.health",
    "pdutils.testing.redis_server",
    "pdutils.testing.tracing",
]

# Property tests judge results, never speed: how long an example takes depends on the machine's load (speed
# belongs in bench/), so Hypothesis' per-example deadline is off for every test.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")
