"""The state table answers a conditional write and a consistent read of a probe item."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from typing_extensions import override

from pagerduty_utils.health_monitor.checks.aws_errors import AWS_ERRORS, aws_failure
from pagerduty_utils.health_monitor.report import CheckOutcome
from pagerduty_utils.health_monitor.runner import HealthCheck
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, KeyPrefix, state_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROBE_KEY = state_key(KeyPrefix.HEALTH, "probe")
PROBE_LIFETIME_SECONDS = 3600


class StateTableCheck(HealthCheck):
    """Writes the probe item the way the components write state (conditionally, with an expiry), reads it back.

    The condition (the stored nonce differs from this run's fresh one) always holds; it is there so the probe
    exercises the conditional-write path the idempotency, circuit and snapshot writes depend on.
    """

    name = "state_table"

    def __init__(self, table_name: str, dynamodb: DynamoDBClient) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb

    @override
    def run(self, deadline: float) -> CheckOutcome:
        nonce = uuid.uuid4().hex
        expiration = int(time.time()) + PROBE_LIFETIME_SECONDS
        try:
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item={
                    KEY_ATTRIBUTE: {"S": PROBE_KEY},
                    "nonce": {"S": nonce},
                    EXPIRY_ATTRIBUTE: {"N": str(expiration)},
                },
                ConditionExpression="attribute_not_exists(nonce) OR nonce <> :nonce",
                ExpressionAttributeValues={":nonce": {"S": nonce}},
            )
            item = self._dynamodb.get_item(
                TableName=self._table_name, Key={KEY_ATTRIBUTE: {"S": PROBE_KEY}}, ConsistentRead=True
            ).get("Item")
        except AWS_ERRORS as exc:
            return aws_failure(f"table {self._table_name}", exc)
        if item is None:
            return CheckOutcome.unhealthy(f"table {self._table_name}: the probe item written was not read back")
        return CheckOutcome.healthy(f"table {self._table_name}: conditional write and consistent read work")
