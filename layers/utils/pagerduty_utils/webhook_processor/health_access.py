"""Who sees what of ``GET /health``.

The endpoint is public, and the full report names dependencies, secrets and failures. So anyone gets the
status alone (``{"status": ...}``); the full report needs ``Authorization: Bearer <token>`` with a token of
``HEALTH_TOKEN_POLICY`` (``pagerduty_utils.jwt_tokens``; ``pdutils token`` mints one). Without a key set
(``HEALTH_TOKEN_SECRET_ID`` unset) no token is ever honoured and only the status is served. A token that does
not verify is refused (401) and audited, never silently downgraded: its holder should learn it is broken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pagerduty_utils.exceptions import InvalidCredentialsError
from pagerduty_utils.jwt_tokens import InvalidTokenError, TokenPolicy
from pagerduty_utils.webhook_processor.health_snapshot import health_status_code

if TYPE_CHECKING:
    from pagerduty_utils.audit_logger import AuditLogger
    from pagerduty_utils.jwt_tokens import TokenAuthority

AUTHORIZATION_HEADER = "Authorization"
HEALTH_TOKEN_POLICY = TokenPolicy(
    issuer="pagerduty-utils", audience="pagerduty-utils:health", max_lifetime_seconds=3600, leeway_seconds=30
)
NO_REPORT = {"status": "unknown", "detail": "no health report available"}


@dataclass(frozen=True)
class HealthView:
    status_code: int
    body: dict[str, Any]


def health_view(report: dict[str, Any] | None, *, full: bool) -> HealthView:
    """The report (or ``NO_REPORT``) when ``full``; otherwise its status alone. Same HTTP status either way."""
    document = report if report is not None else NO_REPORT
    return HealthView(health_status_code(report), document if full else {"status": document["status"]})


class HealthAccess:
    """Decides from the ``Authorization`` header whether a request may see the full report."""

    def __init__(self, tokens: TokenAuthority | None, *, audit: AuditLogger) -> None:
        self._tokens = tokens
        self._audit = audit

    def allows_full_report(self, authorization: str | None, *, request_id: str) -> bool:
        """``False`` without credentials or without a key set; ``InvalidCredentialsError`` for credentials that
        are not a bearer token that verifies."""
        if not authorization or self._tokens is None:
            return False
        scheme, _, token = authorization.strip().partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise InvalidTokenError("authorization is not a bearer token")
            verified = self._tokens.verify(token.strip())
        except InvalidTokenError as error:
            self._audit.record("health.token", "rejected", reason=str(error), request_id=request_id)
            raise InvalidCredentialsError(str(error)) from None
        self._audit.record(
            "health.token", "accepted", subject=verified.subject, token_id=verified.token_id, request_id=request_id
        )
        return True
