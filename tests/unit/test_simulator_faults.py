"""Fault bookkeeping: which request gets which fault, how many times, and how held connections are freed."""

from __future__ import annotations

import threading

import pytest

from pdutils.simulator.faults import Fault, FaultInjector


def test_a_fault_is_used_count_times_then_gone() -> None:
    injector = FaultInjector()
    injector.inject(503, count=2)

    taken = [injector.take("/incidents") for _ in range(3)]

    assert [fault.status if fault else None for fault in taken] == [503, 503, None]
    assert injector.pending == []


def test_faults_are_served_in_injection_order() -> None:
    injector = FaultInjector()
    injector.inject(500)
    injector.inject(drop=True)

    first, second = injector.take("/v2/enqueue"), injector.take("/v2/enqueue")

    assert (first and first.kind, second and second.kind) == ("status:500", "drop")


def test_path_prefix_limits_where_a_fault_applies() -> None:
    injector = FaultInjector()
    injector.inject(429, path_prefix="/v2/")

    assert injector.take("/incidents") is None
    fault = injector.take("/v2/enqueue")
    assert fault is not None
    assert fault.status == 429


def test_fraction_is_reproducible_with_the_seed() -> None:
    def hits(seed: int) -> list[bool]:
        injector = FaultInjector(seed=seed)
        injector.inject(500, count=None, fraction=0.3)
        return [injector.take("/abilities") is not None for _ in range(200)]

    first, again = hits(7), hits(7)

    assert first == again
    assert 30 < sum(first) < 90


def test_reseed_restarts_the_sequence() -> None:
    injector = FaultInjector(seed=3)
    injector.inject(500, count=None, fraction=0.5)
    before = [injector.take("/") is not None for _ in range(20)]

    injector.reseed()

    assert [injector.take("/") is not None for _ in range(20)] == before


def test_429_gets_rate_limit_headers_unless_told_otherwise() -> None:
    assert Fault(429).response_headers()["ratelimit-reset"] == "1"
    assert Fault(429, headers={}).response_headers() == {}
    assert Fault(503).response_headers() == {}


@pytest.mark.parametrize(
    "arguments",
    [{"status": 200}, {"status": 503, "fraction": 1.5}, {"delay": -1.0}, {}],
    ids=["success-status", "fraction", "negative-delay", "nothing"],
)
def test_meaningless_faults_are_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"must|needs"):
        Fault(**arguments)  # type: ignore[arg-type]


def test_from_dict_reads_the_control_plane_document() -> None:
    fault = Fault.from_dict({"status": 502, "count": None, "path_prefix": "/v2/", "delay": 0.2})

    assert (fault.status, fault.remaining, fault.path_prefix, fault.delay) == (502, None, "/v2/", 0.2)
    with pytest.raises(ValueError, match="unknown fault fields"):
        Fault.from_dict({"status": 502, "retries": 3})


def test_clear_releases_held_connections() -> None:
    injector = FaultInjector()
    injector.inject(timeout=True)
    released = threading.Event()

    def hold() -> None:
        injector.hold(30)
        released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    injector.clear()

    assert released.wait(5)
    holder.join(5)
