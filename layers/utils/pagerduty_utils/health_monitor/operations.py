"""The operations channel: an SNS topic (e-mail, chat, on-call tooling) that does not go through PagerDuty."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import DependencyError
from pagerduty_utils.health_monitor.report import HealthReport

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

SNS_SUBJECT_LIMIT = 100


class OperationsChannel(ABC):
    @abstractmethod
    def announce(self, report: HealthReport) -> None:
        """Tell operations the overall status changed; raise ``DependencyError`` when the message did not go."""


class SnsOperationsChannel(OperationsChannel):
    def __init__(self, topic_arn: str, sns: SNSClient) -> None:
        self._topic_arn = topic_arn
        self._sns = sns

    def announce(self, report: HealthReport) -> None:
        try:
            self._sns.publish(
                TopicArn=self._topic_arn,
                Subject=status_change_subject(report),
                Message=status_change_text(report),
                MessageAttributes={"status": {"DataType": "String", "StringValue": report.status.value}},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise DependencyError(f"operations topic publish failed: {code}") from None
        except BotoCoreError as exc:
            raise DependencyError(f"operations topic publish failed: {type(exc).__name__}") from None


def status_change_subject(report: HealthReport) -> str:
    was = f" (was {report.previous_status.value})" if report.previous_status else ""
    return f"PagerDuty integration is {report.status.value.upper()}{was}"[:SNS_SUBJECT_LIMIT]


def status_change_text(report: HealthReport) -> str:
    """Plain text for e-mail and chat: what changed, what is wrong, then every check."""
    checked_at = report.checked_at.isoformat(timespec="seconds")
    lines = [status_change_subject(report) + f" as of {checked_at}.", ""]
    if report.problems:
        lines.append("Needs attention:")
        lines.extend(f"  - {check.name}: {check.status.value}: {check.reason}" for check in report.problems)
    else:
        lines.append("Every check passes.")
    lines += ["", "All checks:"]
    width = max((len(check.name) for check in report.checks), default=0)
    lines.extend(
        f"  {check.name:<{width}}  {check.status.value:<9}  {check.latency_ms:>8.1f} ms  {check.reason}"
        for check in report.checks
    )
    return "\n".join(lines) + "\n"
