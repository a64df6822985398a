"""What a health run produces: per-check results and the overall status, as stored and as sent to people."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class HealthStatus(StrEnum):
    """Ordered from best to worst; ``level`` is the number the ``HealthStatus`` metric carries."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"

    @property
    def level(self) -> int:
        return _LEVELS[self]

    @classmethod
    def worst(cls, statuses: list[HealthStatus]) -> HealthStatus:
        return max(statuses, key=lambda status: status.level, default=cls.HEALTHY)


_LEVELS = {HealthStatus.HEALTHY: 0, HealthStatus.DEGRADED: 1, HealthStatus.UNHEALTHY: 2}


class CheckOutcome(BaseModel):
    """What a check found: its status and a reason a person on call can act on (never a secret value)."""

    model_config = ConfigDict(frozen=True)

    status: HealthStatus
    reason: str

    @classmethod
    def healthy(cls, reason: str) -> CheckOutcome:
        return cls(status=HealthStatus.HEALTHY, reason=reason)

    @classmethod
    def degraded(cls, reason: str) -> CheckOutcome:
        return cls(status=HealthStatus.DEGRADED, reason=reason)

    @classmethod
    def unhealthy(cls, reason: str) -> CheckOutcome:
        return cls(status=HealthStatus.UNHEALTHY, reason=reason)


class CheckResult(BaseModel):
    """One check's outcome with its name and how long it took."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: HealthStatus
    latency_ms: float
    reason: str


class HealthReport(BaseModel):
    """One health run. Stored as JSON in the state table and served by the webhook receiver's ``GET /health``."""

    model_config = ConfigDict(frozen=True)

    status: HealthStatus
    checked_at: datetime
    checks: tuple[CheckResult, ...]
    previous_status: HealthStatus | None = None
    """Overall status of the stored report this one replaced (None for the first run)."""

    @classmethod
    def from_results(cls, results: list[CheckResult], checked_at: datetime) -> HealthReport:
        return cls(
            status=HealthStatus.worst([result.status for result in results]),
            checked_at=checked_at,
            checks=tuple(results),
        )

    @property
    def problems(self) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if check.status is not HealthStatus.HEALTHY)

    def following(self, previous: HealthReport | None) -> HealthReport:
        """This report, recorded as the successor of ``previous`` (the stored one it replaces)."""
        return self.model_copy(update={"previous_status": previous.status if previous else None})
