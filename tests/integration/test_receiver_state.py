"""The duplicate guard and the incident state on the embedded DynamoDB: the promises the receiver relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from pagerduty_utils.exceptions import ConfigurationError, DependencyError
from pagerduty_utils.webhook_processor.incident_state import ClaimStatus, DynamoDBWebhookStateStore, IncidentState
from pdutils.moto_server import MotoEndpoint

pytestmark = pytest.mark.integration

TABLE = "state"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(aws: MotoEndpoint, clock: Clock) -> DynamoDBWebhookStateStore:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return DynamoDBWebhookStateStore(
        TABLE,
        client=client,
        lease_seconds=30,
        dedup_retention_seconds=3600,
        incident_retention_seconds=86400,
        clock=clock,
    )


def state(event_id: str, minutes: int, status: str) -> IncidentState:
    return IncidentState(
        incident_id="PINC001",
        occurred_at=T0 + timedelta(minutes=minutes),
        event_id=event_id,
        event_type=f"incident.{status}",
        status=status,
    )


def item(key: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = (
        boto3.client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": key}}).get("Item", {})  # type: ignore[assignment]
    )
    return found


def test_claim_then_complete_then_duplicate(store: DynamoDBWebhookStateStore, clock: Clock) -> None:
    result = store.claim_delivery("E1", incident_state=state("E1", 0, "triggered"))
    assert (result.status, result.is_latest) == (ClaimStatus.CLAIMED, True)
    assert result.claim is not None
    assert item("webhook#E1")["delivery_status"]["S"] == "in_progress"
    assert item("webhook#E1")["expiration"]["N"] == str(int(clock.now) + 30)
    store.complete_delivery(result.claim)
    assert item("webhook#E1")["expiration"]["N"] == str(int(clock.now) + 3600)
    assert store.claim_delivery("E1", incident_state=state("E1", 0, "triggered")).status is ClaimStatus.DUPLICATE
    assert store.claim_delivery("E1").status is ClaimStatus.DUPLICATE


def test_live_claim_is_in_progress_and_an_expired_one_is_taken_over(
    store: DynamoDBWebhookStateStore, clock: Clock
) -> None:
    crashed = store.claim_delivery("E2")
    assert store.claim_delivery("E2").status is ClaimStatus.IN_PROGRESS
    clock.now += 31
    retry = store.claim_delivery("E2", incident_state=state("E2", 0, "triggered"))
    assert retry.status is ClaimStatus.CLAIMED
    # The crashed invocation can no longer finish or release what it lost.
    assert crashed.claim is not None
    store.complete_delivery(crashed.claim)
    store.release_delivery(crashed.claim)
    assert item("webhook#E2")["delivery_status"]["S"] == "in_progress"


def test_release_lets_the_retry_in_at_once(store: DynamoDBWebhookStateStore) -> None:
    first = store.claim_delivery("E3")
    assert first.claim is not None
    store.release_delivery(first.claim)
    assert store.claim_delivery("E3").status is ClaimStatus.CLAIMED


def test_older_event_never_overwrites_newer_state(store: DynamoDBWebhookStateStore) -> None:
    assert store.claim_delivery("E-new", incident_state=state("E-new", 10, "resolved")).is_latest is True
    late = store.claim_delivery("E-old", incident_state=state("E-old", 5, "acknowledged"))
    assert (late.status, late.is_latest) == (ClaimStatus.CLAIMED, False)
    stored = item("incident#PINC001")
    assert (stored["incident_status"]["S"], stored["event_id"]["S"]) == ("resolved", "E-new")
    assert item("webhook#E-old")["delivery_status"]["S"] == "in_progress"
    assert store.claim_delivery("E-newer", incident_state=state("E-newer", 11, "reopened")).is_latest is True
    assert item("incident#PINC001")["incident_status"]["S"] == "reopened"


def test_missing_table_is_a_configuration_error(aws: MotoEndpoint) -> None:
    store = DynamoDBWebhookStateStore(
        "missing",
        client=boto3.client("dynamodb"),
        lease_seconds=30,
        dedup_retention_seconds=60,
        incident_retention_seconds=60,
    )
    with pytest.raises(ConfigurationError, match="ResourceNotFoundException"):
        store.claim_delivery("E4")


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [
        ([{"Code": "TransactionConflict"}, {"Code": "None"}], ClaimStatus.IN_PROGRESS),
        (
            [{"Code": "ConditionalCheckFailed", "Item": {"delivery_status": {"S": "done"}}}, {"Code": "None"}],
            ClaimStatus.DUPLICATE,
        ),
        ([{"Code": "None"}, {"Code": "ThrottlingError"}], DependencyError),
    ],
)
def test_cancellation_reasons_dynamodb_gives_that_moto_does_not(
    reasons: list[dict[str, object]], expected: ClaimStatus | type[Exception]
) -> None:
    """Real DynamoDB cancels concurrent transactions on one item with TransactionConflict; moto never does."""
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    store = DynamoDBWebhookStateStore(
        TABLE, client=client, lease_seconds=30, dedup_retention_seconds=60, incident_retention_seconds=60
    )
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            response_meta={},
            modeled_fields={"CancellationReasons": reasons},
        )
        if isinstance(expected, ClaimStatus):
            assert store.claim_delivery("E5", incident_state=state("E5", 0, "triggered")).status is expected
        else:
            with pytest.raises(expected):
                store.claim_delivery("E5", incident_state=state("E5", 0, "triggered"))
