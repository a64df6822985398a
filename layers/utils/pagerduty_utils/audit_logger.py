"""Security and delivery audit records, on a logger of their own.

Audit records are structured JSON lines under the service ``<service>-audit`` so they can be routed, retained
and alarmed on separately from operational logs (a subscription filter on ``"audit": true``). A record says
who/what/outcome/why and carries correlation ids; it never carries secrets or raw payloads, only the fields
passed explicitly, and values are truncated.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger

_MAX_VALUE_LENGTH = 256

AuditValue = str | int | float | bool | None


class AuditLogger:
    """Writes one audit record per call: ``record("webhook.signature", "rejected", reason=..., request_id=...)``."""

    def __init__(self, logger: Logger | None = None) -> None:
        service = os.environ.get("POWERTOOLS_SERVICE_NAME", "pagerduty-utils")
        self._logger = logger or Logger(service=f"{service}-audit")

    def record(self, action: str, outcome: str, *, reason: str | None = None, **context: AuditValue) -> None:
        fields = {name: _clip(value) for name, value in context.items()}
        self._logger.info(
            f"audit {action} {outcome}",
            extra={"audit": True, "action": action, "outcome": outcome, "reason": _clip(reason), **fields},
        )


def _clip(value: AuditValue) -> AuditValue:
    if isinstance(value, str) and len(value) > _MAX_VALUE_LENGTH:
        return value[: _MAX_VALUE_LENGTH - 1] + "…"
    return value


audit_logger = AuditLogger()
