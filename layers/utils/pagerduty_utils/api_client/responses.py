"""Turning PagerDuty's error responses into typed errors (Events API and REST API word them differently)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from pagerduty_utils.api_client.errors import (
    AuthenticationError,
    InvalidEventError,
    InvalidRequestError,
    NotFoundError,
    PagerDutyAPIError,
    PagerDutyUnavailableError,
    RateLimitedError,
)
from pagerduty_utils.settings import PAGERDUTY_HOSTS


def retry_after_seconds(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """Seconds PagerDuty asks us to wait: ``ratelimit-reset`` (REST) or ``Retry-After`` (seconds or a date)."""
    for name in ("ratelimit-reset", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value), 0.0)
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
    return None


def events_error(response: httpx.Response) -> PagerDutyAPIError:
    """The error an Events API response means (its body: ``{"status", "message", "errors"}``)."""
    body = _json_object(response)
    message = str(body.get("message") or body.get("status") or response.reason_phrase or "Events API error")
    details = tuple(str(item) for item in body.get("errors") or ())
    return _error_for_status(response, message, None, details, bad_request=InvalidEventError)


def rest_error(response: httpx.Response) -> PagerDutyAPIError:
    """The error a REST API response means (its body: ``{"error": {"message", "code", "errors"}}``)."""
    error = _json_object(response).get("error")
    error = error if isinstance(error, dict) else {}
    message = str(error.get("message") or response.reason_phrase or "REST API error")
    code = error.get("code")
    details = tuple(str(item) for item in error.get("errors") or ())
    if response.status_code == 401:
        message = f"{message} ({_region_hint(response.request.url)})"
    return _error_for_status(
        response, message, code if isinstance(code, int) else None, details, bad_request=InvalidRequestError
    )


def _error_for_status(
    response: httpx.Response,
    message: str,
    code: int | None,
    details: tuple[str, ...],
    *,
    bad_request: type[InvalidRequestError],
) -> PagerDutyAPIError:
    status = response.status_code
    error_type: type[PagerDutyAPIError]
    if status == 429:
        error_type = RateLimitedError
    elif status == 408 or status >= 500:
        error_type = PagerDutyUnavailableError
    elif status in (401, 403):
        error_type = AuthenticationError
    elif status == 404:
        error_type = NotFoundError
    elif status == 400:
        error_type = bad_request
    else:
        error_type = PagerDutyAPIError
    return error_type(
        message,
        status=status,
        code=code,
        request_id=response.headers.get("x-request-id"),
        retry_after=retry_after_seconds(response.headers) if error_type.retryable else None,
        details=details,
    )


def _region_hint(url: httpx.URL) -> str:
    host = urlsplit(str(url)).hostname or ""
    for region, urls in PAGERDUTY_HOSTS.items():
        if host in {urlsplit(url).hostname for url in urls}:
            other = "eu" if region == "us" else "us"
            return (
                f"the token was refused by the {region.upper()} host {host}; if the account is in the "
                f"{other.upper()} service region set PAGERDUTY_REGION={other}, else check the token"
            )
    return f"the token was refused by {host}; check the token and that the host matches the account's region"


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
