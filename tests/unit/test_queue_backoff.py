from __future__ import annotations

import pytest

from pagerduty_utils.alert_forwarder.queue_backoff import backoff_seconds, queue_url_from_arn
from pagerduty_utils.exceptions import ValidationError


@pytest.mark.parametrize(("jitter", "expected"), [(0.0, 7), (1.0, 9)])
def test_known_wait_plus_jitter(jitter: float, expected: int) -> None:
    assert backoff_seconds(7.0, receive_count=1, random_source=lambda: jitter) == expected


@pytest.mark.parametrize(("receive_count", "low", "high"), [(1, 3, 5), (2, 5, 10), (4, 20, 40), (12, 450, 900)])
def test_exponential_on_receive_count_without_a_known_wait(receive_count: int, low: int, high: int) -> None:
    assert backoff_seconds(None, receive_count, random_source=lambda: 0.0) == low
    assert backoff_seconds(None, receive_count, random_source=lambda: 1.0) == high


def test_capped_and_never_zero() -> None:
    assert backoff_seconds(10_000.0, 1, maximum=900, random_source=lambda: 1.0) == 900
    assert backoff_seconds(0.0, 1, random_source=lambda: 0.0) == 1


def test_queue_url_from_arn_on_aws_and_locally() -> None:
    arn = "arn:aws:sqs:eu-west-1:123456789012:alerts"
    assert queue_url_from_arn(arn, "https://sqs.eu-west-1.amazonaws.com") == (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts"
    )
    assert queue_url_from_arn(arn, "http://127.0.0.1:5000/") == "http://127.0.0.1:5000/123456789012/alerts"


def test_queue_url_from_arn_refuses_other_arns() -> None:
    with pytest.raises(ValidationError):
        queue_url_from_arn("arn:aws:sns:eu-west-1:123456789012:alerts", "https://sqs.eu-west-1.amazonaws.com")
