"""A 10-minute PagerDuty outage on the whole local stack, on a clock 20 times faster (``pdutils.testing.outage``).

Simulated: the time the hold depends on (hides, circuit recovery, the hold watch's schedule, the rate budget)
runs 20 times faster. Real: the embedded AWS (SQS visibility, DynamoDB), the PagerDuty simulator answering 503
to every event during the outage, the forwarder in its worker process fed by the local queue poller.
"""

from __future__ import annotations

import pytest

from pdutils.testing.outage import Fault, OutageScenario, Phase, run_outage

pytestmark = pytest.mark.integration


def test_a_ten_minute_outage_ends_with_every_alert_paged_within_two_minutes_and_nothing_dead_lettered() -> None:
    report = run_outage(OutageScenario("10 min of 503", (Phase(10, Fault(503)),), alerts=50, time_scale=20))

    assert report.accounted, report.line()
    assert report.delivered == 50, report.line()
    assert report.dead_lettered.total() == 0, report.line()
    assert report.duplicates == 0, report.line()
    assert report.recovery_to_last_delivery is not None
    assert report.recovery_to_last_delivery <= 120, report.line()
    assert report.max_receives_per_hour <= 12, report.line()
