"""@CircuitBreaker as the utils README uses it: sync, async, context manager; in-process or shared in DynamoDB."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from aws_lambda_powertools.utilities.circuit_breaker import CircuitState

from pagerduty_utils.circuit_breaker import CircuitBreaker, CircuitOpenError
from pagerduty_utils.circuit_breaker_decorator import InProcessCircuitPersistence
from pagerduty_utils.config_parser.settings_file import reset_config
from pagerduty_utils.state_table import circuit_key
from pdutils.testing.forwarder import StateTable


class Outage(Exception):
    pass


@pytest.fixture(autouse=True)
def fresh_configuration(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for variable in ("PAGERDUTY_UTILS_CONFIG", "STATE_TABLE_NAME", "CIRCUIT_FAILURE_THRESHOLD"):
        monkeypatch.delenv(variable, raising=False)
    reset_config()
    yield
    reset_config()


@pytest.fixture
def persistence() -> InProcessCircuitPersistence:
    return InProcessCircuitPersistence()


def unique_name() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def failing(calls: list[str]) -> Callable[[], None]:
    def call() -> None:
        calls.append("ran")
        raise Outage("down")

    return call


def test_it_opens_after_the_threshold_and_stops_calling(persistence: InProcessCircuitPersistence) -> None:
    calls: list[str] = []
    guarded = CircuitBreaker(failure_threshold=3, timeout=60, persistence=persistence)(failing(calls))

    for _ in range(3):
        with pytest.raises(Outage):
            guarded()
    with pytest.raises(CircuitOpenError) as refused:
        guarded()

    assert len(calls) == 3
    assert refused.value.retryable
    assert 0 < (refused.value.retry_after or 0) <= 60


def test_a_success_before_the_threshold_keeps_it_closed(persistence: InProcessCircuitPersistence) -> None:
    outcomes = iter([Outage("down"), Outage("down"), None, Outage("down"), Outage("down"), None])

    @CircuitBreaker(failure_threshold=3, timeout=60, persistence=persistence)
    def flaky() -> str:
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome
        return "ok"

    results = []
    for _ in range(6):
        try:
            results.append(flaky())
        except Outage:
            results.append("failed")
    assert results == ["failed", "failed", "ok", "failed", "failed", "ok"]


def test_the_readme_decorator_guards_an_async_function(persistence: InProcessCircuitPersistence) -> None:
    calls: list[str] = []

    @CircuitBreaker(failure_threshold=5, timeout=60, persistence=persistence)
    async def external_api_call() -> None:
        calls.append("ran")
        raise Outage("down")

    async def scenario() -> None:
        for _ in range(5):
            with pytest.raises(Outage):
                await external_api_call()
        with pytest.raises(CircuitOpenError):
            await external_api_call()

    asyncio.run(scenario())
    assert len(calls) == 5
    assert external_api_call.__name__ == "external_api_call"


def test_after_the_recovery_timeout_one_probe_closes_it(persistence: InProcessCircuitPersistence) -> None:
    name = unique_name()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=60, name=name, persistence=persistence)
    with pytest.raises(Outage):
        breaker(failing([]))()
    persistence.save_open(circuit_key(name), failure_count=1, opened_at=int(time.time()) - 61)

    assert breaker(lambda: "probed")() == "probed"
    assert persistence.get_state(circuit_key(name)).state == CircuitState.CLOSED


def test_only_the_expected_exceptions_count(persistence: InProcessCircuitPersistence) -> None:
    guarded = CircuitBreaker(failure_threshold=1, expected_exception=Outage, persistence=persistence)

    @guarded
    def bad_input() -> None:
        raise ValueError("caller's mistake")

    for _ in range(3):
        with pytest.raises(ValueError, match="caller's mistake"):
            bad_input()


def test_as_a_context_manager_it_counts_the_block(persistence: InProcessCircuitPersistence) -> None:
    breaker = CircuitBreaker(failure_threshold=2, timeout=60, name=unique_name(), persistence=persistence)
    for _ in range(2):
        with pytest.raises(Outage), breaker:
            raise Outage("down")
    ran = []
    with pytest.raises(CircuitOpenError), breaker:
        ran.append("block")
    assert ran == []


def test_as_an_async_context_manager_it_counts_the_block(persistence: InProcessCircuitPersistence) -> None:
    breaker = CircuitBreaker(failure_threshold=1, timeout=60, name=unique_name(), persistence=persistence)

    async def scenario() -> list[str]:
        async with breaker:
            pass  # a success leaves it closed
        with pytest.raises(Outage):
            async with breaker:
                raise Outage("down")
        ran: list[str] = []
        with pytest.raises(CircuitOpenError):
            async with breaker:
                ran.append("block")
        return ran

    assert asyncio.run(scenario()) == []


def test_breakers_of_one_name_share_the_in_process_state() -> None:
    name = unique_name()
    with pytest.raises(Outage):
        CircuitBreaker(failure_threshold=1, name=name)(failing([]))()
    with pytest.raises(CircuitOpenError):
        CircuitBreaker(failure_threshold=1, name=name)(lambda: "never")()


def test_thresholds_come_from_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCUIT_FAILURE_THRESHOLD", "2")
    calls: list[str] = []
    guarded = CircuitBreaker(name=unique_name())(failing(calls))
    for _ in range(2):
        with pytest.raises(Outage):
            guarded()
    with pytest.raises(CircuitOpenError):
        guarded()
    assert len(calls) == 2


def test_timeout_and_recovery_timeout_are_one_setting() -> None:
    assert CircuitBreaker(timeout=30, recovery_timeout=30)
    with pytest.raises(ValueError, match="same setting"):
        CircuitBreaker(timeout=30, recovery_timeout=60)


def test_thresholds_that_are_not_positive_are_refused() -> None:
    with pytest.raises(ValueError, match="failure_threshold must be a positive number"):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        CircuitBreaker(timeout=0)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        CircuitBreaker(recovery_timeout=-5)


def test_with_a_state_table_every_process_sees_the_open_circuit(
    in_process_state_table: StateTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATE_TABLE_NAME", in_process_state_table.name)
    name = unique_name()
    with pytest.raises(Outage):
        CircuitBreaker(failure_threshold=1, name=name)(failing([]))()

    stored = in_process_state_table.client.get_item(
        TableName=in_process_state_table.name, Key={"pk": {"S": circuit_key(name)}}
    )["Item"]
    assert stored["state"]["S"] == str(CircuitState.OPEN)
    another_process = CircuitBreaker(failure_threshold=1, name=name, table_name=in_process_state_table.name)
    with pytest.raises(CircuitOpenError):
        another_process(lambda: "never")()
