"""Queue depth and the age of the oldest message, against thresholds.

Depth comes from ``GetQueueAttributes`` (``ApproximateNumberOfMessages``). SQS exposes the age of the oldest
message only as the CloudWatch metric ``AWS/SQS ApproximateAgeOfOldestMessage`` (it is not a queue attribute),
so the age is the latest one-minute maximum of that metric; when CloudWatch has no datapoint yet (a new or idle
queue, or the local embedded AWS) the age is reported as unknown and only the depth is judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from typing_extensions import override

from pagerduty_utils.health_monitor.checks.aws_errors import AWS_ERRORS, aws_failure
from pagerduty_utils.health_monitor.report import CheckOutcome, HealthStatus
from pagerduty_utils.health_monitor.runner import HealthCheck

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_sqs import SQSClient

AGE_LOOKBACK = timedelta(minutes=5)


@dataclass(frozen=True)
class QueueThresholds:
    """Above ``max_depth`` messages, or with a message older than ``max_age_seconds``, the check reports
    ``breach_status``."""

    max_depth: int
    max_age_seconds: int | None
    breach_status: HealthStatus


class QueueCheck(HealthCheck):
    def __init__(
        self,
        name: str,
        queue_url: str,
        thresholds: QueueThresholds,
        *,
        sqs: SQSClient,
        cloudwatch: CloudWatchClient,
    ) -> None:
        self.name = name
        self._queue_url = queue_url
        self._queue_name = queue_url.rstrip("/").rsplit("/", 1)[-1]
        self._thresholds = thresholds
        self._sqs = sqs
        self._cloudwatch = cloudwatch

    @override
    def run(self, deadline: float) -> CheckOutcome:
        try:
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=self._queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
        except AWS_ERRORS as exc:
            return aws_failure(f"queue {self._queue_name}", exc)
        depth = int(attributes.get("ApproximateNumberOfMessages", "0"))
        oldest_age, age_text, age_readable = self._age()
        summary = f"queue {self._queue_name}: {depth} message(s), {age_text}"
        breaches = self._breaches(depth, oldest_age)
        if breaches:
            return CheckOutcome(status=self._thresholds.breach_status, reason=f"{summary}; " + ", ".join(breaches))
        if not age_readable:
            return CheckOutcome.degraded(summary)
        return CheckOutcome.healthy(summary)

    def _age(self) -> tuple[float | None, str, bool]:
        """(age in seconds or None, how to say it, whether CloudWatch could be read).

        The age is the second signal: when CloudWatch cannot be read the depth is still judged, and the check
        is at least degraded so that the missing half gets fixed.
        """
        try:
            oldest_age = self._oldest_message_age()
        except AWS_ERRORS as exc:
            return None, aws_failure("reading the oldest message's age", exc).reason, False
        if oldest_age is None:
            return None, "age unknown (no CloudWatch datapoint)", True
        return oldest_age, f"oldest {oldest_age:.0f}s", True

    def _breaches(self, depth: int, oldest_age: float | None) -> list[str]:
        limits = self._thresholds
        breaches = []
        if depth > limits.max_depth:
            breaches.append(f"depth over the threshold of {limits.max_depth}")
        if limits.max_age_seconds is not None and oldest_age is not None and oldest_age > limits.max_age_seconds:
            breaches.append(f"oldest message over the threshold of {limits.max_age_seconds}s")
        return breaches

    def _oldest_message_age(self) -> float | None:
        now = datetime.now(UTC)
        response = self._cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "oldest",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/SQS",
                            "MetricName": "ApproximateAgeOfOldestMessage",
                            "Dimensions": [{"Name": "QueueName", "Value": self._queue_name}],
                        },
                        "Period": 60,
                        "Stat": "Maximum",
                    },
                }
            ],
            StartTime=now - AGE_LOOKBACK,
            EndTime=now,
            ScanBy="TimestampDescending",
        )
        values = [value for result in response["MetricDataResults"] for value in result.get("Values", [])]
        return values[0] if values else None
