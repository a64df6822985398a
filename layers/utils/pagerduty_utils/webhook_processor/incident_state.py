"""Webhook state in the shared DynamoDB table: the duplicate guard and the latest state of each incident.

Duplicate guard (``webhook#<event id>``): a delivery is *claimed* with a conditional put as ``in_progress`` with a
short lease, and marked ``done`` (kept for the dedup retention) once its fan-out succeeded. A claim succeeds when
no item exists or the existing one has expired, so:

- a concurrent duplicate finds a live ``in_progress`` claim and is told to come back later (never published twice);
- a retry after a crash finds the lease expired and processes the event again (never lost);
- a duplicate after success finds ``done`` and is acknowledged without processing.

Incident state (``incident#<incident id>``): written only when the event's ``occurred_at`` is not older than the
stored one, so late deliveries never overwrite newer state.

On the normal path the claim and the state write go to DynamoDB together in one ``TransactWriteItems`` call, and
marking the delivery done is the second call: with the bus publish, three AWS calls per webhook. Only when the
state write loses (an out-of-order event) is the claim repeated on its own.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.error_handler import dependency_error
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, KeyPrefix, state_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import PutTypeDef

IN_PROGRESS = "in_progress"
DONE = "done"


@dataclass(frozen=True)
class IncidentState:
    """What the table remembers about an incident: its state as of the newest event seen."""

    incident_id: str
    occurred_at: datetime
    event_id: str
    event_type: str
    status: str | None = None
    urgency: str | None = None
    title: str | None = None
    priority: str | None = None
    service_id: str | None = None
    html_url: str | None = None


class ClaimStatus(StrEnum):
    CLAIMED = "claimed"
    DUPLICATE = "duplicate"
    IN_PROGRESS = "in_progress"


@dataclass(frozen=True)
class DeliveryClaim:
    """Proof that this invocation owns the processing of one event until its lease expires."""

    delivery_id: str
    token: str


@dataclass(frozen=True)
class ClaimResult:
    status: ClaimStatus
    claim: DeliveryClaim | None = None
    is_latest: bool | None = None
    """Whether the incident state was written (``None`` when no state came with the claim)."""


class WebhookStateStore(ABC):
    """The duplicate guard and the incident state, behind one interface (one table, one transaction)."""

    @abstractmethod
    def claim_delivery(self, delivery_id: str, *, incident_state: IncidentState | None = None) -> ClaimResult:
        """Claim ``delivery_id`` for processing and, when given, record ``incident_state`` unless it is stale."""

    @abstractmethod
    def complete_delivery(self, claim: DeliveryClaim) -> None:
        """Mark the claimed delivery done, so later duplicates are acknowledged without processing."""

    @abstractmethod
    def release_delivery(self, claim: DeliveryClaim) -> None:
        """Give the claim up after a failure, so the sender's retry is processed without waiting for the lease."""


class DynamoDBWebhookStateStore(WebhookStateStore):
    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient,
        lease_seconds: int,
        dedup_retention_seconds: int,
        incident_retention_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table_name = table_name
        self._client = client
        self._lease_seconds = lease_seconds
        self._dedup_retention_seconds = dedup_retention_seconds
        self._incident_retention_seconds = incident_retention_seconds
        self._clock = clock

    def claim_delivery(self, delivery_id: str, *, incident_state: IncidentState | None = None) -> ClaimResult:
        claim = DeliveryClaim(delivery_id=delivery_id, token=uuid.uuid4().hex)
        now = int(self._clock())
        claim_put = self._claim_put(claim, now)
        if incident_state is None:
            return self._put_claim(claim_put, claim)
        try:
            self._client.transact_write_items(
                TransactItems=[{"Put": claim_put}, {"Put": self._incident_put(incident_state, now)}]
            )
        except ClientError as error:
            if _error_code(error) != "TransactionCanceledException":
                raise dependency_error("DynamoDB TransactWriteItems", error) from None
            return self._resolve_cancelled_transaction(error, claim_put, claim)
        except BotoCoreError as error:
            raise dependency_error("DynamoDB TransactWriteItems", error) from None
        return ClaimResult(ClaimStatus.CLAIMED, claim=claim, is_latest=True)

    def complete_delivery(self, claim: DeliveryClaim) -> None:
        expires = int(self._clock()) + self._dedup_retention_seconds
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={KEY_ATTRIBUTE: {"S": _delivery_key(claim.delivery_id)}},
                UpdateExpression="SET delivery_status = :done, #expiry = :expires",
                ConditionExpression="claim_token = :token",
                ExpressionAttributeNames={"#expiry": EXPIRY_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":done": {"S": DONE},
                    ":expires": {"N": str(expires)},
                    ":token": {"S": claim.token},
                },
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return  # the lease expired and another invocation owns the delivery now: it will finish it
            raise dependency_error("DynamoDB UpdateItem", error) from None
        except BotoCoreError as error:
            raise dependency_error("DynamoDB UpdateItem", error) from None

    def release_delivery(self, claim: DeliveryClaim) -> None:
        try:
            self._client.delete_item(
                TableName=self._table_name,
                Key={KEY_ATTRIBUTE: {"S": _delivery_key(claim.delivery_id)}},
                ConditionExpression="claim_token = :token",
                ExpressionAttributeValues={":token": {"S": claim.token}},
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return
            raise dependency_error("DynamoDB DeleteItem", error) from None
        except BotoCoreError as error:
            raise dependency_error("DynamoDB DeleteItem", error) from None

    def _claim_put(self, claim: DeliveryClaim, now: int) -> PutTypeDef:
        return {
            "TableName": self._table_name,
            "Item": {
                KEY_ATTRIBUTE: {"S": _delivery_key(claim.delivery_id)},
                "delivery_status": {"S": IN_PROGRESS},
                "claim_token": {"S": claim.token},
                EXPIRY_ATTRIBUTE: {"N": str(now + self._lease_seconds)},
            },
            "ConditionExpression": "attribute_not_exists(#pk) OR #expiry < :now",
            "ExpressionAttributeNames": {"#pk": KEY_ATTRIBUTE, "#expiry": EXPIRY_ATTRIBUTE},
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def _incident_put(self, state: IncidentState, now: int) -> PutTypeDef:
        occurred_at_ms = _epoch_millis(state.occurred_at)
        optional = {
            "incident_status": state.status,
            "urgency": state.urgency,
            "title": state.title,
            "priority": state.priority,
            "service_id": state.service_id,
            "html_url": state.html_url,
        }
        item: dict[str, Any] = {
            KEY_ATTRIBUTE: {"S": state_key(KeyPrefix.INCIDENT, state.incident_id)},
            "incident_id": {"S": state.incident_id},
            "occurred_at_ms": {"N": str(occurred_at_ms)},
            "occurred_at": {"S": state.occurred_at.isoformat()},
            "event_id": {"S": state.event_id},
            "event_type": {"S": state.event_type},
            "updated_at": {"N": str(now)},
            EXPIRY_ATTRIBUTE: {"N": str(now + self._incident_retention_seconds)},
        }
        item.update({name: {"S": value} for name, value in optional.items() if value})
        return {
            "TableName": self._table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#pk) OR occurred_at_ms <= :occurred OR #expiry < :now",
            "ExpressionAttributeNames": {"#pk": KEY_ATTRIBUTE, "#expiry": EXPIRY_ATTRIBUTE},
            "ExpressionAttributeValues": {":occurred": {"N": str(occurred_at_ms)}, ":now": {"N": str(now)}},
        }

    def _put_claim(self, claim_put: PutTypeDef, claim: DeliveryClaim) -> ClaimResult:
        try:
            self._client.put_item(**claim_put)
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise dependency_error("DynamoDB PutItem", error) from None
            return _existing_claim(cast(Mapping[str, Any] | None, error.response.get("Item")))
        except BotoCoreError as error:
            raise dependency_error("DynamoDB PutItem", error) from None
        return ClaimResult(ClaimStatus.CLAIMED, claim=claim)

    def _resolve_cancelled_transaction(
        self, error: ClientError, claim_put: PutTypeDef, claim: DeliveryClaim
    ) -> ClaimResult:
        reasons = cast(list[Mapping[str, Any]], error.response.get("CancellationReasons") or [])
        codes = [str(reason.get("Code", "None")) for reason in reasons]
        if len(codes) != 2 or "TransactionConflict" in codes:
            # Another transaction on the same items is running right now: a concurrent duplicate.
            return ClaimResult(ClaimStatus.IN_PROGRESS)
        claim_code, state_code = codes
        if claim_code == "ConditionalCheckFailed":
            return _existing_claim(reasons[0].get("Item"))
        if claim_code == "None" and state_code == "ConditionalCheckFailed":
            # A newer event of this incident is already recorded: claim alone, and say the event is not the latest.
            result = self._put_claim(claim_put, claim)
            return ClaimResult(result.status, claim=result.claim, is_latest=False)
        raise dependency_error("DynamoDB TransactWriteItems", error)


def _existing_claim(item: Mapping[str, Any] | None) -> ClaimResult:
    status = (item or {}).get("delivery_status", {}).get("S")
    return ClaimResult(ClaimStatus.DUPLICATE if status == DONE else ClaimStatus.IN_PROGRESS)


def _delivery_key(delivery_id: str) -> str:
    return state_key(KeyPrefix.WEBHOOK, delivery_id)


def _epoch_millis(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
