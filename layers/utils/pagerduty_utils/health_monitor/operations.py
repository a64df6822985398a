"""The operations channel: an SNS topic (e-mail, chat, on-call tooling) that does not go through PagerDuty.

The message is the report rendered by ``notification_builder`` as e-mail text: the overall status as the
title, then one line per check, problems first.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import DependencyError
from pagerduty_utils.health_monitor.report import HealthReport

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

    from pagerduty_utils.notification_builder import Notification

SNS_SUBJECT_LIMIT = 100


class OperationsChannel(ABC):
    @abstractmethod
    def announce(self, report: HealthReport) -> None:
        """Tell operations the overall status changed; raise ``DependencyError`` when the message did not go."""


class SnsOperationsChannel(OperationsChannel):
    """Publishes to the operations topic. The SNS client comes from ``sns`` at the first announcement: status
    changes are rare, so a cold start does not pay for creating it."""

    def __init__(self, topic_arn: str, sns: Callable[[], SNSClient]) -> None:
        self._topic_arn = topic_arn
        self._sns = sns

    def announce(self, report: HealthReport) -> None:
        # Deferred: announcements are rare, and the builder's imports (the alert models) cost every cold start.
        from pagerduty_utils.notification_builder import render_email  # noqa: PLC0415

        email = render_email(status_change_notification(report))
        try:
            self._sns().publish(
                TopicArn=self._topic_arn,
                Subject=email.subject[:SNS_SUBJECT_LIMIT],
                Message=email.text,
                MessageAttributes={"status": {"DataType": "String", "StringValue": report.status.value}},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise DependencyError(f"operations topic publish failed: {code}") from None
        except BotoCoreError as exc:
            raise DependencyError(f"operations topic publish failed: {type(exc).__name__}") from None


def status_change_notification(report: HealthReport) -> Notification:
    """The report as a channel-neutral notification: one fact per check, the worst first."""
    from pagerduty_utils.formatters import clean_text  # noqa: PLC0415  # deferred with the builder, see announce
    from pagerduty_utils.notification_builder import TEXT_LIMIT, Notification  # noqa: PLC0415

    was = report.previous_status.value if report.previous_status else "not checked before"
    worst_first = sorted(report.checks, key=lambda check: -check.status.level)
    return Notification(
        title=f"PagerDuty integration is {report.status.value} (was {was})",
        status=report.status.value,
        level=None,
        facts=tuple(
            (
                check.name,
                clean_text(
                    f"{check.status.value}: {check.reason} ({check.latency_ms:.0f} ms)", TEXT_LIMIT, single_line=True
                ),
            )
            for check in worst_first
        ),
        url=None,
        links=(),
        occurred_at=report.checked_at,
    )
