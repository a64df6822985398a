"""pytest fixtures for the PagerDuty simulator: one server per session, clean state for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pdutils.simulator import SimulatorConfig, SimulatorHandle, running_simulator

TEST_CONFIG = SimulatorConfig(
    # Short webhook retry delays and timeouts so tests that exercise retries finish quickly.
    webhook_retry_delays=(0.05, 0.1, 0.2),
    webhook_timeout_seconds=2.0,
)


@pytest.fixture(scope="session")
def pd_sim_server() -> Iterator[SimulatorHandle]:
    """The session's simulator (OpenAPI files parsed once); use ``pd_sim`` in tests for a clean one."""
    with running_simulator(config=TEST_CONFIG) as handle:
        yield handle


@pytest.fixture
def pd_sim(pd_sim_server: SimulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorHandle]:
    """A clean PagerDuty simulator for one test, with PAGERDUTY_EVENTS_URL and PAGERDUTY_API_URL pointed at it.

    State, faults, webhook subscriptions, throttling history and accepted tokens are reset before and after.
    """
    pd_sim_server.reset()
    monkeypatch.setenv("PAGERDUTY_EVENTS_URL", pd_sim_server.base_url)
    monkeypatch.setenv("PAGERDUTY_API_URL", pd_sim_server.base_url)
    yield pd_sim_server
    pd_sim_server.reset()
