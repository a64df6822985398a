"""Schedules of the local runtime: rate expressions and the event a schedule sends."""

from __future__ import annotations

import pytest

from pdutils.local.scheduler import ScheduleSource, rate_seconds

RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/health"


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(2 hours)", 7200), ("rate(1 day)", 86400)],
)
def test_rate_expressions(expression: str, seconds: int) -> None:
    assert rate_seconds(expression) == seconds


def test_cron_expressions_are_not_evaluated_locally() -> None:
    assert rate_seconds("cron(0 12 * * ? *)") is None


def test_a_schedule_sends_eventbridges_scheduled_event() -> None:
    source = ScheduleSource.from_event_properties("Every5", {"Schedule": "rate(5 minutes)"}, RULE_ARN)

    event = source.event("eu-west-1", "111122223333")

    assert (event["detail-type"], event["source"], event["resources"]) == ("Scheduled Event", "aws.events", [RULE_ARN])
    assert (event["version"], event["region"], event["account"], event["detail"]) == (
        "0",
        "eu-west-1",
        "111122223333",
        {},
    )


def test_a_schedule_with_input_sends_it_instead() -> None:
    source = ScheduleSource.from_event_properties(
        "Ping", {"Schedule": "rate(1 minute)", "Input": '{"ping": 1}'}, RULE_ARN
    )

    assert source.event("us-east-1", "123456789012") == {"ping": 1}
