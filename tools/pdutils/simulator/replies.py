"""Answers in PagerDuty's shapes: the REST error body, the Events API body, and a raisable error for both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

REST_ERROR_CODES = {
    400: (2001, "Invalid Input Provided"),
    401: (2006, "Invalid Credentials"),
    403: (2010, "Access Denied"),
    404: (2100, "Not Found"),
    408: (2000, "Request Timeout"),
    429: (2020, "Rate Limit Exceeded"),
}
EVENTS_ERROR_STATUS = {
    400: ("invalid event", "Event object is invalid"),
    429: ("throttle event", "Requests for this service are arriving too quickly. Please retry later."),
}
EVENTS_PATH_PREFIX = "/v2/"


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class APIError(Exception):
    """An error answer, shaped by the API it belongs to when it is turned into a ``Reply``."""

    def __init__(
        self,
        status: int,
        errors: Sequence[str] = (),
        *,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or f"HTTP {status}")
        self.status = status
        self.errors = list(errors)
        self.message = message
        self.headers = headers or {}

    def reply(self, path: str) -> Reply:
        return error_reply(path, self.status, self.errors, message=self.message, headers=self.headers)


def error_reply(
    path: str,
    status: int,
    errors: Sequence[str] = (),
    *,
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """PagerDuty's error body for ``status`` on ``path``: the Events API's shape or the REST API's."""
    if path.startswith(EVENTS_PATH_PREFIX):
        short, description = EVENTS_ERROR_STATUS.get(status, ("error", HTTPStatus(status).phrase))
        events_body: dict[str, Any] = {"status": short, "message": message or description}
        if errors:
            events_body["errors"] = list(errors)
        return Reply(status, events_body, dict(headers or {}))
    code, description = REST_ERROR_CODES.get(status, (2000, HTTPStatus(status).phrase))
    error: dict[str, Any] = {"message": message or description, "code": code}
    if errors:
        error["errors"] = list(errors)
    return Reply(status, {"error": error}, dict(headers or {}))
