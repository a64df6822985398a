from __future__ import annotations

import asyncio
import functools
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from pagerduty_utils.api_client import PagerDutyUnavailableError, RateLimitedError
from pagerduty_utils.circuit_breaker import Circuit, CircuitOpenError, SharedCircuitStore
from pagerduty_utils.state_table import circuit_key, circuit_key_for_url
from pdutils.testing.forwarder import StateTable

FAILURE_THRESHOLD = 3
RECOVERY_SECONDS = 60


@pytest.fixture
def name() -> str:
    return circuit_key(f"events-{uuid.uuid4().hex[:8]}.example.com")


@pytest.fixture
def make_circuit(in_process_state_table: StateTable, name: str) -> Callable[[], Circuit]:
    """Each call is one more 'process': its own persistence object and cache, the same table."""

    def make() -> Circuit:
        return shared_circuit(in_process_state_table, name, threshold=FAILURE_THRESHOLD)

    return make


def fail() -> None:
    raise PagerDutyUnavailableError("down", status=503)


def trip(circuit: Circuit) -> None:
    for _ in range(FAILURE_THRESHOLD):
        with pytest.raises(PagerDutyUnavailableError):
            circuit.call(fail)


def recovery_elapsed(table: StateTable, name: str) -> None:
    """Move the stored opening back past the recovery timeout (the store, not the clock, is what others see)."""
    table.client.update_item(
        TableName=table.name,
        Key={"pk": {"S": name}},
        UpdateExpression="SET opened_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - RECOVERY_SECONDS - 1)}},
    )


def test_key_follows_the_state_table_layout() -> None:
    assert circuit_key("events.pagerduty.com") == "circuit#events.pagerduty.com"
    assert circuit_key_for_url("http://127.0.0.1:8080/") == "circuit#127.0.0.1:8080"


def test_closed_circuit_runs_the_call(make_circuit: Callable[[], Circuit]) -> None:
    assert make_circuit().call(lambda: 202) == 202


def test_consecutive_failures_open_it_for_every_process(make_circuit: Callable[[], Circuit]) -> None:
    circuit, other_process = make_circuit(), make_circuit()
    trip(circuit)
    calls: list[str] = []
    with pytest.raises(CircuitOpenError) as raised:
        other_process.call(lambda: calls.append("sent"))
    assert calls == []
    assert 0 < (raised.value.retry_after or 0) <= RECOVERY_SECONDS
    assert 0 < (other_process.open_for() or 0) <= RECOVERY_SECONDS


def test_throttling_does_not_trip_the_host_circuit(make_circuit: Callable[[], Circuit]) -> None:
    circuit = make_circuit()

    def throttled() -> None:
        raise RateLimitedError("slow down", status=429)

    for _ in range(FAILURE_THRESHOLD * 2):
        with pytest.raises(RateLimitedError):
            circuit.call(throttled)
    assert circuit.open_for() is None


def test_successful_probe_closes_it(
    make_circuit: Callable[[], Circuit], in_process_state_table: StateTable, name: str
) -> None:
    circuit = make_circuit()
    trip(circuit)
    recovery_elapsed(in_process_state_table, name)
    assert circuit.open_for() == 0
    assert circuit.call(lambda: "probe") == "probe"
    assert make_circuit().call(lambda: "after") == "after"


def test_only_one_process_probes_at_a_time(
    make_circuit: Callable[[], Circuit], in_process_state_table: StateTable, name: str
) -> None:
    prober, other_process = make_circuit(), make_circuit()
    trip(prober)
    recovery_elapsed(in_process_state_table, name)
    probing, release = threading.Event(), threading.Event()

    def slow_probe() -> str:
        probing.set()
        assert release.wait(10)
        return "probe"

    worker = threading.Thread(target=prober.call, args=(slow_probe,))
    worker.start()
    assert probing.wait(10)
    with pytest.raises(CircuitOpenError):
        other_process.call(lambda: "second probe")
    release.set()
    worker.join(10)
    assert other_process.call(lambda: "closed again") == "closed again"


def test_async_face_counts_failures_and_runs_calls_concurrently(make_circuit: Callable[[], Circuit]) -> None:
    circuit = make_circuit()

    async def scenario() -> list[str]:
        in_flight = 0
        peak = 0

        async def send(index: int) -> str:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            return f"sent-{index}"

        results = await asyncio.gather(*(circuit.call_async(functools.partial(send, index)) for index in range(5)))
        assert peak > 1

        async def down() -> None:
            fail()

        for _ in range(FAILURE_THRESHOLD):
            with pytest.raises(PagerDutyUnavailableError):
                await circuit.call_async(down)
        with pytest.raises(CircuitOpenError):
            await circuit.call_async(lambda: send(99))
        return list(results)

    try:
        assert asyncio.run(scenario()) == [f"sent-{index}" for index in range(5)]
    finally:
        circuit.close()


class ConsultedBreaker:
    """Records each time a circuit hands a call to Powertools' breaker (``Circuit.call``, on a worker thread)."""

    def __init__(self, circuit: Circuit, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        decide = circuit.call

        def counted(operation: Callable[[], Any]) -> Any:
            self.calls += 1
            return decide(operation)

        monkeypatch.setattr(circuit, "call", counted)


def reads_of(table: StateTable) -> list[str]:
    reads: list[str] = []
    table.client.meta.events.register("before-call.dynamodb.GetItem", lambda **_: reads.append("GetItem"))
    return reads


async def answer(value: str) -> str:
    return value


async def unavailable() -> str:
    fail()
    return "never"


def test_a_closed_circuit_the_cache_vouches_for_sends_without_asking_the_breaker(
    in_process_state_table: StateTable, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = reads_of(in_process_state_table)
    now = [1000.0]
    store = SharedCircuitStore(
        in_process_state_table.name,
        client=in_process_state_table.client,
        random_source=lambda: 0.0,
        clock=lambda: now[0],
    )
    circuit = shared_circuit(in_process_state_table, name, threshold=FAILURE_THRESHOLD, store=store, cache_seconds=10)
    breaker = ConsultedBreaker(circuit, monkeypatch)

    async def sends() -> list[str]:
        return list(await asyncio.gather(*(circuit.call_async(functools.partial(answer, f"{i}")) for i in range(3))))

    assert asyncio.run(circuit.call_async(functools.partial(answer, "first"))) == "first"
    assert (breaker.calls, reads) == (1, ["GetItem"])  # nothing was cached: the breaker decided, after a read
    now[0] = 1009.0
    assert asyncio.run(sends()) == ["0", "1", "2"]
    assert (breaker.calls, reads) == (1, ["GetItem"])
    now[0] = 1010.0  # the cached state has expired: the breaker decides again, after one read
    assert asyncio.run(circuit.call_async(functools.partial(answer, "late"))) == "late"
    assert (breaker.calls, reads) == (2, ["GetItem", "GetItem"])
    circuit.close()


def test_failures_on_the_cached_closed_path_open_the_circuit_and_a_success_resets_their_count(
    in_process_state_table: StateTable, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    circuit = shared_circuit(in_process_state_table, name, threshold=FAILURE_THRESHOLD, cache_seconds=60)
    other_container = shared_circuit(in_process_state_table, name, threshold=FAILURE_THRESHOLD)
    circuit.state()
    breaker = ConsultedBreaker(circuit, monkeypatch)

    async def scenario() -> None:
        for _ in range(FAILURE_THRESHOLD - 1):
            with pytest.raises(PagerDutyUnavailableError):
                await circuit.call_async(unavailable)
        assert stored(in_process_state_table, name)["failure_count"]["N"] == str(FAILURE_THRESHOLD - 1)
        assert await circuit.call_async(functools.partial(answer, "ok")) == "ok"
        assert stored(in_process_state_table, name)["failure_count"]["N"] == "0"
        assert breaker.calls == 0
        for _ in range(FAILURE_THRESHOLD):
            with pytest.raises(PagerDutyUnavailableError):
                await circuit.call_async(unavailable)
        sent: list[str] = []

        async def send() -> str:
            sent.append("sent")
            return "sent"

        with pytest.raises(CircuitOpenError):
            await circuit.call_async(send)
        assert sent == []
        assert breaker.calls == 1  # open: the breaker, not the cached path, refused it

    asyncio.run(scenario())
    assert stored(in_process_state_table, name)["state"]["S"] == "OPEN"
    assert other_container.open_for()
    circuit.close()


def shared_circuit(
    table: StateTable, name: str, *, threshold: int, store: SharedCircuitStore | None = None, cache_seconds: int = 0
) -> Circuit:
    """One container's circuit on the shared table (its own store and cache unless ``store`` is given)."""
    return Circuit(
        name,
        store or SharedCircuitStore(table.name, client=table.client),
        failure_types=(PagerDutyUnavailableError,),
        failure_threshold=threshold,
        recovery_seconds=RECOVERY_SECONDS,
        cache_seconds=cache_seconds,
    )


def stored(table: StateTable, name: str) -> dict[str, Any]:
    return table.client.get_item(TableName=table.name, Key={"pk": {"S": name}}, ConsistentRead=True)["Item"]


def test_failures_add_up_across_containers(in_process_state_table: StateTable, name: str) -> None:
    first, second = (shared_circuit(in_process_state_table, name, threshold=5) for _ in range(2))
    for circuit in (first, second, first, second, first):
        with pytest.raises(PagerDutyUnavailableError):
            circuit.call(fail)
    assert stored(in_process_state_table, name)["state"]["S"] == "OPEN"
    with pytest.raises(CircuitOpenError):
        second.call(lambda: "held")


def test_a_success_ends_the_run_of_failures_for_every_container(in_process_state_table: StateTable, name: str) -> None:
    first, second = (shared_circuit(in_process_state_table, name, threshold=3) for _ in range(2))
    for _ in range(2):
        with pytest.raises(PagerDutyUnavailableError):
            first.call(fail)
    assert first.call(lambda: "ok") == "ok"
    for _ in range(2):
        with pytest.raises(PagerDutyUnavailableError):
            second.call(fail)
    item = stored(in_process_state_table, name)
    assert (item["state"]["S"], item["failure_count"]["N"]) == ("CLOSED", "2")


def writes_of(table: StateTable) -> list[str]:
    writes: list[str] = []
    table.client.meta.events.register("before-call.dynamodb.UpdateItem", lambda **_: writes.append("UpdateItem"))
    return writes


@pytest.mark.parametrize("known", ["counted here", "read from the table"])
def test_once_the_count_is_reset_later_successes_write_nothing(
    in_process_state_table: StateTable, name: str, known: str
) -> None:
    circuit = shared_circuit(in_process_state_table, name, threshold=5, cache_seconds=60)
    counter = circuit if known == "counted here" else shared_circuit(in_process_state_table, name, threshold=5)
    for _ in range(2):
        with pytest.raises(PagerDutyUnavailableError):
            counter.call(fail)
    circuit.state()  # the container's cache holds the count when another container counted it
    writes = writes_of(in_process_state_table)

    async def successes() -> list[str]:
        return [await circuit.call_async(functools.partial(answer, f"{index}")) for index in range(4)]

    assert asyncio.run(successes()) == ["0", "1", "2", "3"]
    assert writes == ["UpdateItem"]
    assert stored(in_process_state_table, name)["failure_count"]["N"] == "0"
    circuit.close()


def test_the_probe_lease_outlives_the_probe(in_process_state_table: StateTable, name: str) -> None:
    store = SharedCircuitStore(
        in_process_state_table.name, client=in_process_state_table.client, probe_lease_seconds=600
    )
    circuit = shared_circuit(in_process_state_table, name, threshold=1, store=store)
    with pytest.raises(PagerDutyUnavailableError):
        circuit.call(fail)
    recovery_elapsed(in_process_state_table, name)
    leases: list[int] = []

    def probe() -> str:
        leases.append(int(stored(in_process_state_table, name)["probe_lease_expiry"]["N"]) - int(time.time()))
        return "probe"

    assert circuit.call(probe) == "probe"
    assert len(leases) == 1
    assert leases[0] >= 599  # not the 60 s recovery time


def test_threads_that_miss_the_cache_together_share_one_read(in_process_state_table: StateTable, name: str) -> None:
    reads: list[str] = []
    in_process_state_table.client.meta.events.register(
        "before-call.dynamodb.GetItem", lambda **_: reads.append("GetItem")
    )
    circuit = shared_circuit(in_process_state_table, name, threshold=FAILURE_THRESHOLD, cache_seconds=60)
    threads = [threading.Thread(target=circuit.state) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert reads == ["GetItem"]


@pytest.mark.parametrize(("draw", "lifetime"), [(0.0, 10.0), (1.0, 15.0), (0.5, 12.5)])
def test_the_cache_lifetime_is_jittered_between_its_age_and_half_as_much_again(
    in_process_state_table: StateTable, name: str, draw: float, lifetime: float
) -> None:
    reads: list[float] = []
    now = [1000.0]
    in_process_state_table.client.meta.events.register("before-call.dynamodb.GetItem", lambda **_: reads.append(now[0]))
    store = SharedCircuitStore(
        in_process_state_table.name,
        client=in_process_state_table.client,
        random_source=lambda: draw,
        clock=lambda: now[0],
    )
    circuit = shared_circuit(in_process_state_table, name, threshold=FAILURE_THRESHOLD, store=store, cache_seconds=10)
    for moment in (1000.0, 1000.0 + lifetime - 0.01, 1000.0 + lifetime):
        now[0] = moment
        circuit.state()
    assert reads == [1000.0, 1000.0 + lifetime]
