"""One health run: check everything at once, emit metrics, record the report, announce a change of status.

A change is announced once: the report is recorded with an optimistic write (see ``snapshot``), and only the
run whose write moved the announced status sends the message. If sending fails, the announced status is put
back so the next run sends it again, and the run fails loudly (the function's Errors metric).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pagerduty_utils.exceptions import DependencyError
from pagerduty_utils.health_monitor.operations import OperationsChannel
from pagerduty_utils.health_monitor.report import HealthReport, HealthStatus
from pagerduty_utils.health_monitor.runner import HealthCheck, run_checks
from pagerduty_utils.health_monitor.snapshot import SnapshotStore
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.observability import logger

MAX_RECORD_ATTEMPTS = 5

# Metric names the template's alarms and dashboard refer to.
OVERALL_STATUS_METRIC = "HealthStatus"
CHECK_METRIC = "HealthCheck"
CHECK_LATENCY_METRIC = "HealthCheckLatency"


@dataclass(frozen=True)
class HealthRun:
    report: HealthReport
    announced: bool


def utc_now() -> datetime:
    return datetime.now(UTC)


class HealthMonitor:
    def __init__(
        self,
        checks: Sequence[HealthCheck],
        *,
        deadline_seconds: float,
        snapshots: SnapshotStore,
        operations: OperationsChannel | None = None,
        metrics: MetricsCollector | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._checks = checks
        self._deadline_seconds = deadline_seconds
        self._snapshots = snapshots
        self._operations = operations
        self._metrics = metrics
        self._clock = clock

    def run(self) -> HealthRun:
        results = run_checks(self._checks, timeout=self._deadline_seconds)
        report = HealthReport.from_results(results, checked_at=self._clock())
        if self._metrics is not None:
            publish_metrics(report, self._metrics)
        recorded, last_announced = self._record(report)
        if recorded.status == last_announced:
            return HealthRun(report=recorded, announced=False)
        logger.warning(
            "health status changed",
            extra={"status": recorded.status.value, "previous_status": last_announced.value},
        )
        if self._operations is None:
            return HealthRun(report=recorded, announced=False)
        try:
            self._operations.announce(recorded)
        except DependencyError:
            self._snapshots.reopen_announcement(recorded, announced=last_announced)
            raise
        return HealthRun(report=recorded, announced=True)

    def _record(self, report: HealthReport) -> tuple[HealthReport, HealthStatus]:
        """Store ``report`` over the latest snapshot; return it and the status announced before it."""
        for _ in range(MAX_RECORD_ATTEMPTS):
            stored = self._snapshots.load()
            recorded = report.following(stored.report if stored else None)
            # With nothing announced yet, operations are assumed to believe all is well: only a problem is news.
            last_announced = (stored.announced_status if stored else None) or HealthStatus.HEALTHY
            if self._snapshots.replace(recorded, expected=stored, announced=recorded.status):
                return recorded, last_announced
        raise DependencyError(f"health snapshot changed under {MAX_RECORD_ATTEMPTS} concurrent writes in a row")


def publish_metrics(report: HealthReport, metrics: MetricsCollector) -> None:
    """``HealthStatus`` (0 healthy, 1 degraded, 2 unhealthy) in the invocation's document; per check, a
    ``HealthCheck`` count with ``Check`` and ``Status`` dimensions and a ``HealthCheckLatency`` timing."""
    metrics.count(OVERALL_STATUS_METRIC, report.status.level)
    for check in report.checks:
        metrics.count(CHECK_METRIC, 1, Check=check.name, Status=check.status.value)
        metrics.timing(CHECK_LATENCY_METRIC, check.latency_ms, Check=check.name)
