"""Typed PagerDuty errors: what went wrong, whether a retry can help, and when.

Every error carries the HTTP status (None when no answer came back), PagerDuty's error code and message,
the ``x-request-id`` to quote to PagerDuty support, ``retryable`` and ``retry_after`` (seconds, when known).
Retryable errors are also ``RetryableError`` and invalid requests also ``ValidationError``, so handlers that
only know the library's domain errors map them correctly (retry later vs. dead-letter).
"""

from __future__ import annotations

from pagerduty_utils.exceptions import PagerDutyUtilsError, RetryableError, ValidationError


class PagerDutyAPIError(PagerDutyUtilsError):
    """PagerDuty refused or failed a request. Not retryable unless a subclass says so."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        details: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after
        self.details = details

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.details:
            parts.append("details=" + "; ".join(self.details))
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        if self.retry_after is not None:
            parts.append(f"retry_after={self.retry_after:.3g}s")
        return " ".join(parts)


class RateLimitedError(PagerDutyAPIError, RetryableError):
    """429: the request was NOT processed; send it again after ``retry_after``."""


class PagerDutyUnavailableError(PagerDutyAPIError, RetryableError):
    """5xx, 408, a timeout or a network failure: PagerDuty may not have processed the request."""


class DeadlineExceededError(PagerDutyUnavailableError):
    """No time was left before the caller's deadline for another attempt; hand the work back and retry later."""


class AuthenticationError(PagerDutyAPIError):
    """401/403: wrong token, wrong region (US vs EU host) or missing permission. A human must fix it."""


class NotFoundError(PagerDutyAPIError):
    """404: the incident, service or path does not exist (or the token cannot see it)."""


class InvalidRequestError(PagerDutyAPIError, ValidationError):
    """400 (or refused before sending): the request can never succeed as it is. Never retried."""


class InvalidEventError(InvalidRequestError):
    """An Events API event PagerDuty rejects (400), or one refused before sending (missing dedup_key...)."""
