"""Security and delivery audit records, on a logger of their own.

Audit records are structured JSON lines under the service ``<service>-audit`` so they can be routed, retained
and alarmed on separately from operational logs (a subscription filter on ``"audit": true``). A record says
who/what/outcome/why and carries correlation ids; it carries only the fields passed explicitly, and values are
truncated.

Secrets never reach the record, wherever they appear in what it is given: a field whose name looks secret
(``token``, ``api_key``, ``authorization``, ``signature``, ``password``, ``routing_key``..., at any depth of a
nested value) is replaced by ``[REDACTED]``, and so is anything in a text that looks like a credential (an
``Authorization`` header, a bearer token, a JWT, ``token=...``/``secret: ...``, a webhook signature, an AWS
access key id). Names that only refer to a secret (``token_id``, ``secret_arn``, ``api_key_name``) are kept.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger

_MAX_VALUE_LENGTH = 256
_MAX_DEPTH = 8
REDACTED = "[REDACTED]"

AuditValue = str | int | float | bool | None
AuditField = AuditValue | Mapping[str, Any] | Sequence[Any]

# A field name that ends in a secret's word (after lower-casing, "-" and " " read as "_").
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:token|secret|passw(?:or)?d|authorization|api_?key|signature|credentials?|routing_?key|"
    r"integration_?key|private_?key|access_?key|cookie|session)s?$"
)
# Credentials inside free text: the part to keep is group 1 where there is one.
_SECRET_TEXT = (
    re.compile(r"(?i)(\bauthorization\s*[:=]\s*)[^\r\n,;]+"),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(
        r"(?i)(\b(?:token|secret|password|passwd|api[_-]?key|routing[_-]?key|signature)\b\"?\s*[:=]\s*\"?)"
        r"[^\s\",;&]+"
    ),
    re.compile(r"(\bv1=)[0-9a-fA-F]{16,}"),
    re.compile(r"()\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    re.compile(r"()\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
)


class AuditLogger:
    """Writes one audit record per call: ``record("webhook.signature", "rejected", reason=..., request_id=...)``."""

    def __init__(self, logger: Logger | None = None) -> None:
        service = os.environ.get("POWERTOOLS_SERVICE_NAME", "pagerduty-utils")
        self._logger = logger or Logger(service=f"{service}-audit")

    def record(self, action: str, outcome: str, *, reason: str | None = None, **context: AuditField) -> None:
        fields = {name: REDACTED if _is_secret_name(name) else _clean(value, 0) for name, value in context.items()}
        action, outcome = redact_text(action), redact_text(outcome)
        self._logger.info(
            f"audit {action} {outcome}",
            extra={"audit": True, "action": action, "outcome": outcome, "reason": _clean(reason, 0), **fields},
        )


def redact_text(text: str) -> str:
    """``text`` with every credential-looking part replaced by ``[REDACTED]``."""
    for pattern in _SECRET_TEXT:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


def _is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(re.sub(r"[-\s]", "_", name.lower())) is not None


def _clean(value: Any, depth: int) -> Any:
    """Redacted and clipped, recursively; what is nested deeper than ``_MAX_DEPTH`` is left out."""
    if isinstance(value, str):
        return _clip(redact_text(value))
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= _MAX_DEPTH:
        return "…"
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if _is_secret_name(str(key)) else _clean(item, depth + 1) for key, item in value.items()
        }
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, bytes | bytearray):
        return [_clean(item, depth + 1) for item in value]
    return _clip(redact_text(repr(value)))


def _clip(value: str) -> str:
    if len(value) > _MAX_VALUE_LENGTH:
        return value[: _MAX_VALUE_LENGTH - 1] + "…"
    return value


audit_logger = AuditLogger()
