"""Simulator settings: what a test, the local stack or ``pdutils sim`` can tune."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEV_TOKEN = "pdutils-simulator-dev-token"  # a documented, well-known token for local use only  # noqa: S105  # nosec B105


@dataclass(frozen=True)
class SimulatorConfig:
    """``spec_dir`` None means the default lookup (``pdutils.simulator.openapi.default_spec_dir``);
    ``validate`` False skips OpenAPI validation even when the files are present."""

    spec_dir: Path | None = None
    validate: bool = True
    valid_tokens: frozenset[str] = field(default_factory=lambda: frozenset({DEV_TOKEN}))
    events_rate_limit_per_minute: int = 120
    rest_rate_limit_per_minute: int = 960
    webhook_retry_delays: tuple[float, ...] = (1.0, 5.0, 15.0)
    webhook_timeout_seconds: float = 5.0
    timeout_hold_seconds: float = 30.0
    seed: int = 0
    # A long-running `pdutils sim` keeps only the most recent requests.
    max_recorded_requests: int = 10_000
