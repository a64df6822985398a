"""The latest health report in the state table: what ``GET /health`` serves, and what a run compares against.

One item, ``pk = "health#latest"``: ``report`` (the report as JSON), ``announced_status`` (the overall status
operations were last told about) and ``expiration`` (epoch seconds; readers compare it themselves). Writes are
optimistic: a run replaces the item only if it still holds the report that run read, so of two concurrent runs
exactly one records a status change and announces it; the other re-reads and sees no change.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError
from pydantic import ValidationError as PydanticValidationError

from pagerduty_utils.health_monitor.report import HealthReport, HealthStatus
from pagerduty_utils.observability import logger
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, KeyPrefix, state_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SNAPSHOT_KEY = state_key(KeyPrefix.HEALTH, "latest")
REPORT_ATTRIBUTE = "report"
ANNOUNCED_ATTRIBUTE = "announced_status"
DEFAULT_SNAPSHOT_LIFETIME_SECONDS = 900


@dataclass(frozen=True)
class StoredSnapshot:
    report: HealthReport | None
    """None when the stored text is not a report this version can read: it is then simply replaced."""
    report_json: str
    """The stored text itself: the optimistic-lock condition compares it byte for byte."""
    announced_status: HealthStatus | None


class SnapshotStore(ABC):
    @abstractmethod
    def load(self) -> StoredSnapshot | None:
        """The stored snapshot, expired or not (the last known status still decides what is a change)."""

    @abstractmethod
    def replace(self, report: HealthReport, *, expected: StoredSnapshot | None, announced: HealthStatus) -> bool:
        """Store ``report`` if the item still holds ``expected``; False if another run wrote first."""

    @abstractmethod
    def reopen_announcement(self, report: HealthReport, *, announced: HealthStatus) -> None:
        """After a failed announcement of ``report``: record ``announced`` again so the next run retries it."""


class DynamoDBSnapshotStore(SnapshotStore):
    def __init__(
        self,
        table_name: str,
        dynamodb: DynamoDBClient,
        *,
        lifetime_seconds: int = DEFAULT_SNAPSHOT_LIFETIME_SECONDS,
    ) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb
        self._lifetime_seconds = lifetime_seconds

    def load(self) -> StoredSnapshot | None:
        item = self._dynamodb.get_item(
            TableName=self._table_name, Key={KEY_ATTRIBUTE: {"S": SNAPSHOT_KEY}}, ConsistentRead=True
        ).get("Item")
        if item is None or REPORT_ATTRIBUTE not in item:
            return None
        report_json = item[REPORT_ATTRIBUTE].get("S", "")
        try:
            report: HealthReport | None = HealthReport.model_validate_json(report_json)
        except PydanticValidationError:
            logger.warning("stored health report is unreadable; it will be replaced", extra={"key": SNAPSHOT_KEY})
            report = None
        announced = _status(item.get(ANNOUNCED_ATTRIBUTE, {}).get("S"))
        return StoredSnapshot(
            report=report,
            report_json=report_json,
            announced_status=announced or (report.status if report else None),
        )

    def replace(self, report: HealthReport, *, expected: StoredSnapshot | None, announced: HealthStatus) -> bool:
        try:
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item={
                    KEY_ATTRIBUTE: {"S": SNAPSHOT_KEY},
                    REPORT_ATTRIBUTE: {"S": report.model_dump_json()},
                    ANNOUNCED_ATTRIBUTE: {"S": announced.value},
                    EXPIRY_ATTRIBUTE: {"N": str(int(time.time()) + self._lifetime_seconds)},
                },
                # No report is ever stored as "", so with nothing expected only a missing item matches.
                ConditionExpression="attribute_not_exists(#report) OR #report = :expected",
                ExpressionAttributeNames={"#report": REPORT_ATTRIBUTE},
                ExpressionAttributeValues={":expected": {"S": expected.report_json if expected else ""}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def reopen_announcement(self, report: HealthReport, *, announced: HealthStatus) -> None:
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key={KEY_ATTRIBUTE: {"S": SNAPSHOT_KEY}},
                UpdateExpression="SET #announced = :announced",
                ConditionExpression="#report = :report",
                ExpressionAttributeNames={"#announced": ANNOUNCED_ATTRIBUTE, "#report": REPORT_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":announced": {"S": announced.value},
                    ":report": {"S": report.model_dump_json()},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise


def _status(value: str | None) -> HealthStatus | None:
    try:
        return HealthStatus(value) if value else None
    except ValueError:
        return None
