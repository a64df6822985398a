"""Circuit states of every PagerDuty circuit, as the Powertools circuit breaker persists them.

The forwarder's circuit breakers store one item per circuit in the state table, keyed ``circuit#<name>`` in
``pk``, with the state in ``state`` (``CLOSED``, ``OPEN``, ``HALF_OPEN``) and ``opened_at`` in epoch seconds.
There is no index by prefix, so the check scans with a filter; the table holds few items per alert and expired
items are skipped (DynamoDB deletes them late). No item means a circuit that never opened: closed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.circuit_breaker.states import CircuitState
from typing_extensions import override

from pagerduty_utils.health_monitor.checks.aws_errors import AWS_ERRORS, aws_failure
from pagerduty_utils.health_monitor.report import CheckOutcome
from pagerduty_utils.health_monitor.runner import HealthCheck
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, KeyPrefix, state_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

STATE_ATTRIBUTE = "state"
OPENED_AT_ATTRIBUTE = "opened_at"


class CircuitsCheck(HealthCheck):
    """Open circuit: unhealthy (alerts are held back). Half-open: degraded (recovery is being probed)."""

    name = "pagerduty_circuits"

    def __init__(self, table_name: str, dynamodb: DynamoDBClient) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb

    @override
    def run(self, deadline: float) -> CheckOutcome:
        try:
            items = self._circuit_items()
        except AWS_ERRORS as exc:
            return aws_failure(f"reading circuits from {self._table_name}", exc)
        now = int(time.time())
        live = [item for item in items if _expiration(item) > now]
        open_circuits = [_describe(item, now) for item in live if _state(item) == CircuitState.OPEN]
        half_open = [_describe(item, now) for item in live if _state(item) == CircuitState.HALF_OPEN]
        if open_circuits:
            return CheckOutcome.unhealthy("open: " + ", ".join(open_circuits + half_open))
        if half_open:
            return CheckOutcome.degraded("half-open (probing recovery): " + ", ".join(half_open))
        return CheckOutcome.healthy(f"{len(live)} circuit(s) recorded, all closed")

    def _circuit_items(self) -> list[dict[str, AttributeValueTypeDef]]:
        prefix = state_key(KeyPrefix.CIRCUIT, "")
        paginator = self._dynamodb.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self._table_name,
            FilterExpression="begins_with(#pk, :prefix)",
            ProjectionExpression="#pk, #state, #opened_at, #expiration",
            ExpressionAttributeNames={
                "#pk": KEY_ATTRIBUTE,
                "#state": STATE_ATTRIBUTE,
                "#opened_at": OPENED_AT_ATTRIBUTE,
                "#expiration": EXPIRY_ATTRIBUTE,
            },
            ExpressionAttributeValues={":prefix": {"S": prefix}},
        )
        return [item for page in pages for item in page.get("Items", [])]


def _state(item: dict[str, AttributeValueTypeDef]) -> str:
    return item.get(STATE_ATTRIBUTE, {}).get("S", CircuitState.CLOSED.value)


def _expiration(item: dict[str, AttributeValueTypeDef]) -> float:
    raw = item.get(EXPIRY_ATTRIBUTE, {}).get("N")
    return float(raw) if raw is not None else float("inf")


def _describe(item: dict[str, AttributeValueTypeDef], now: int) -> str:
    name = item[KEY_ATTRIBUTE].get("S", "?").removeprefix(state_key(KeyPrefix.CIRCUIT, ""))
    opened_at = item.get(OPENED_AT_ATTRIBUTE, {}).get("N")
    return f"{name} (for {now - int(float(opened_at))}s)" if opened_at is not None else name
