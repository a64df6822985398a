"""Run every check at once, each on its own thread, and return when all are done or the deadline passes.

A check that has not returned by the deadline is reported as unhealthy ("timed out") and left behind: its
thread is a daemon, so it neither delays the report nor keeps the process (a CLI run) alive. Checks are given a
deadline slightly earlier than the run's and bound their own I/O by it, so a slow dependency is normally reported
by its check, with a precise reason (which host, which timeout), and the cut-off is the backstop for a check
that hangs anyway.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait

from pagerduty_utils.health_monitor.report import CheckOutcome, CheckResult, HealthStatus
from pagerduty_utils.observability import logger

_MAX_REASON_LENGTH = 300
# How much earlier than the run's deadline the checks' own deadline is: time to build their result.
CHECK_MARGIN_SECONDS = 0.25
CHECK_MARGIN_FRACTION = 0.1


class HealthCheck(ABC):
    """One probe of one dependency. ``name`` is stable: it is the ``Check`` metric dimension."""

    name: str

    @abstractmethod
    def run(self, deadline: float) -> CheckOutcome:
        """Probe the dependency; return by ``deadline`` (a ``time.monotonic()`` value) whenever possible."""


def remaining(deadline: float, *, floor: float = 0.05) -> float:
    """Seconds left before ``deadline``, never less than ``floor`` (a timeout of 0 would mean 'block')."""
    return max(deadline - time.monotonic(), floor)


def run_checks(
    checks: Sequence[HealthCheck], *, timeout: float, clock: Callable[[], float] = time.monotonic
) -> list[CheckResult]:
    """Results in the order of ``checks``; never takes (much) longer than ``timeout`` seconds."""
    deadline = clock() + timeout
    check_deadline = deadline - min(CHECK_MARGIN_SECONDS, timeout * CHECK_MARGIN_FRACTION)
    futures: list[Future[CheckResult]] = []
    for check in checks:
        future: Future[CheckResult] = Future()
        worker = threading.Thread(
            target=_run_one, args=(check, check_deadline, future), name=f"health-{check.name}", daemon=True
        )
        worker.start()
        futures.append(future)
    wait(futures, timeout=max(deadline - clock(), 0.0))
    return [
        future.result() if future.done() else _timed_out(check, timeout)
        for check, future in zip(checks, futures, strict=True)
    ]


def _run_one(check: HealthCheck, deadline: float, future: Future[CheckResult]) -> None:
    started = time.perf_counter()
    try:
        outcome = check.run(deadline)
    except Exception as exc:  # a check's failure is a finding, not a crash of the run
        logger.warning("health check raised", extra={"check": check.name, "error": type(exc).__name__})
        outcome = CheckOutcome.unhealthy(_describe(exc))
    latency_ms = (time.perf_counter() - started) * 1000
    future.set_result(
        CheckResult(name=check.name, status=outcome.status, latency_ms=round(latency_ms, 1), reason=outcome.reason)
    )


def _timed_out(check: HealthCheck, timeout: float) -> CheckResult:
    return CheckResult(
        name=check.name,
        status=HealthStatus.UNHEALTHY,
        latency_ms=round(timeout * 1000, 1),
        reason=f"timed out: no answer within the {timeout:g}s health deadline",
    )


def _describe(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _MAX_REASON_LENGTH else text[: _MAX_REASON_LENGTH - 1] + "…"
