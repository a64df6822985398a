"""Circuit states of every PagerDuty circuit, as the Powertools circuit breaker persists them.

The forwarder keeps one circuit per PagerDuty host, stored in the state table under ``circuit#<host>``
(``pagerduty_utils.state_table.circuit_key_for_url``) with the state in ``state`` (``CLOSED``, ``OPEN``,
``HALF_OPEN``) and ``opened_at`` in epoch seconds. The check reads exactly those keys in one BatchGetItem
(never a scan of a table that holds an item per alert); expired items are skipped (DynamoDB deletes them late).
No item means a circuit that never opened: closed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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

    def __init__(self, table_name: str, dynamodb: DynamoDBClient, circuit_keys: Sequence[str]) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb
        self._circuit_keys = sorted(set(circuit_keys))

    @override
    def run(self, deadline: float) -> CheckOutcome:
        try:
            items = self._circuit_items()
        except AWS_ERRORS as exc:
            return aws_failure(f"reading circuits from {self._table_name}", exc)
        except CircuitsUnreadableError as exc:
            return CheckOutcome.degraded(str(exc))
        now = int(time.time())
        live = [item for item in items if _expiration(item) > now]
        open_circuits = [_describe(item, now) for item in live if _state(item) == CircuitState.OPEN]
        half_open = [_describe(item, now) for item in live if _state(item) == CircuitState.HALF_OPEN]
        if open_circuits:
            return CheckOutcome.unhealthy("open: " + ", ".join(open_circuits + half_open))
        if half_open:
            return CheckOutcome.degraded("half-open (probing recovery): " + ", ".join(half_open))
        return CheckOutcome.healthy(f"closed: {', '.join(_host(key) for key in self._circuit_keys)}")

    def _circuit_items(self) -> list[dict[str, AttributeValueTypeDef]]:
        response = self._dynamodb.batch_get_item(
            RequestItems={
                self._table_name: {
                    "Keys": [{KEY_ATTRIBUTE: {"S": key}} for key in self._circuit_keys],
                    "ProjectionExpression": "#pk, #state, #opened_at, #expiration",
                    "ExpressionAttributeNames": {
                        "#pk": KEY_ATTRIBUTE,
                        "#state": STATE_ATTRIBUTE,
                        "#opened_at": OPENED_AT_ATTRIBUTE,
                        "#expiration": EXPIRY_ATTRIBUTE,
                    },
                }
            }
        )
        if response.get("UnprocessedKeys"):
            raise CircuitsUnreadableError("DynamoDB left circuit keys unprocessed (throttled)")
        return list(response.get("Responses", {}).get(self._table_name, []))


class CircuitsUnreadableError(Exception):
    """The table answered without every circuit: the check cannot tell whether one is open."""


def _state(item: dict[str, AttributeValueTypeDef]) -> str:
    return item.get(STATE_ATTRIBUTE, {}).get("S", CircuitState.CLOSED.value)


def _expiration(item: dict[str, AttributeValueTypeDef]) -> float:
    raw = item.get(EXPIRY_ATTRIBUTE, {}).get("N")
    return float(raw) if raw is not None else float("inf")


def _host(key: str) -> str:
    return key.removeprefix(state_key(KeyPrefix.CIRCUIT, ""))


def _describe(item: dict[str, AttributeValueTypeDef], now: int) -> str:
    name = _host(item[KEY_ATTRIBUTE].get("S", "?"))
    opened_at = item.get(OPENED_AT_ATTRIBUTE, {}).get("N")
    return f"{name} (for {now - int(float(opened_at))}s)" if opened_at is not None else name
