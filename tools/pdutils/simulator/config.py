"""Simulator settings: what a test, the local stack or ``pdutils sim`` can tune."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEV_TOKEN = "pdutils-simulator-dev-token"  # a documented, well-known token for local use only  # noqa: S105  # nosec B105
# Both sides of the control plane read it: the simulator that `pdutils sim` or `pdutils start` runs, and the
# `pdutils sim fault|state|reset|clear-faults` commands that steer it.
CONTROL_TOKEN_ENV = "PDUTILS_SIM_CONTROL_TOKEN"  # noqa: S105  # nosec B105  # a variable's name
CONTROL_TOKEN_HEADER = "X-Pdutils-Sim-Token"  # noqa: S105  # nosec B105  # a header's name


def default_control_token() -> str:
    """``PDUTILS_SIM_CONTROL_TOKEN`` when set, else a fresh random token for this simulator."""
    # Hex, never URL-safe base64: a token starting with "-" would read as an option on `--control-token TOKEN`.
    return os.environ.get(CONTROL_TOKEN_ENV) or secrets.token_hex(24)


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
    # What a /_sim/ request must carry in X-Pdutils-Sim-Token.
    control_token: str = field(default_factory=default_control_token, repr=False)
    # Webhooks go to loopback addresses only, unless their host is named here.
    webhook_hosts: frozenset[str] = frozenset()

    @property
    def control_headers(self) -> dict[str, str]:
        """What a request to the ``/_sim/`` control plane must carry."""
        return {CONTROL_TOKEN_HEADER: self.control_token}
