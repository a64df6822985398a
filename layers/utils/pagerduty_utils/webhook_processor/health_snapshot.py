"""The health checker's latest report, as ``GET /health`` serves it.

Contract with the health checker: item ``health#latest`` in the state table, attribute ``report`` holding a JSON
object with at least ``status`` (healthy, degraded or unhealthy), ``checked_at`` and ``checks``. A report that is
missing, expired (``expiration`` in the past) or unreadable counts as no report.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.error_handler import dependency_error
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, KeyPrefix, state_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

HEALTH_KEY = state_key(KeyPrefix.HEALTH, "latest")
REPORT_ATTRIBUTE = "report"
SERVING_STATUSES = frozenset({"healthy", "degraded"})
KNOWN_STATUSES = SERVING_STATUSES | {"unhealthy"}


class HealthSnapshotReader(ABC):
    @abstractmethod
    def latest(self) -> dict[str, Any] | None:
        """The latest report, or ``None`` when there is no usable one."""


class DynamoDBHealthSnapshotReader(HealthSnapshotReader):
    def __init__(self, table_name: str, *, client: DynamoDBClient, clock: Callable[[], float] = time.time) -> None:
        self._table_name = table_name
        self._client = client
        self._clock = clock

    def latest(self) -> dict[str, Any] | None:
        try:
            item = self._client.get_item(TableName=self._table_name, Key={KEY_ATTRIBUTE: {"S": HEALTH_KEY}}).get("Item")
        except (ClientError, BotoCoreError) as error:
            raise dependency_error("DynamoDB GetItem", error) from None
        if not item:
            return None
        expiry = item.get(EXPIRY_ATTRIBUTE, {}).get("N")
        if expiry is not None and float(expiry) < self._clock():
            return None
        return parse_report(item.get(REPORT_ATTRIBUTE, {}).get("S"))


def parse_report(text: str | None) -> dict[str, Any] | None:
    """The report as a dict when it is a JSON object with a known ``status``; otherwise ``None``."""
    if not text:
        return None
    try:
        report = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(report, dict) or report.get("status") not in KNOWN_STATUSES:
        return None
    return report


def health_status_code(report: dict[str, Any] | None) -> int:
    """200 while the stack can serve (healthy or degraded), 503 when unhealthy or when nobody reported."""
    return 200 if report is not None and report.get("status") in SERVING_STATUSES else 503
