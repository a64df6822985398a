"""One place where errors are translated: AWS errors into domain errors, domain errors into HTTP problems.

HTTP responses follow RFC 9457 (``application/problem+json`` with ``type``, ``title``, ``status``, ``detail``,
``instance``). Only messages known to be free of secrets reach a response: the detail of configuration and
unexpected errors is replaced by a generic text, and nothing logs a stack trace (only the error type and, for
unexpected errors, where it was raised).

The status codes are chosen for webhook senders that drop 4xx deliveries and retry 5xx: a 4xx says "this can
never succeed", a 5xx says "try again later" (our dependencies, our configuration).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import (
    ConfigurationError,
    DeliveryInProgressError,
    DependencyError,
    InvalidCredentialsError,
    MalformedSignatureError,
    PagerDutyUtilsError,
    PayloadTooLargeError,
    RetryableError,
    SignatureError,
    ValidationError,
)

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    from pagerduty_utils.audit_logger import AuditLogger

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:pagerduty-utils:problem:"

# AWS error codes that a retry cannot fix: the resource or the permission is missing.
_AWS_CONFIGURATION_CODES = frozenset(
    {"ResourceNotFoundException", "AccessDeniedException", "AccessDenied", "NotFoundException", "NotFound"}
)


@dataclass(frozen=True)
class ProblemKind:
    status: int
    slug: str
    title: str
    exposes_detail: bool


# Most specific first: the first class the error is an instance of decides.
_PROBLEM_KINDS: tuple[tuple[type[Exception], ProblemKind], ...] = (
    (PayloadTooLargeError, ProblemKind(413, "payload-too-large", "Payload too large", True)),
    (MalformedSignatureError, ProblemKind(400, "malformed-signature", "Malformed signature header", True)),
    (InvalidCredentialsError, ProblemKind(401, "invalid-token", "Invalid credentials", False)),
    (SignatureError, ProblemKind(403, "invalid-signature", "No valid signature", False)),
    (ValidationError, ProblemKind(400, "invalid-request", "Invalid request", True)),
    (DeliveryInProgressError, ProblemKind(503, "delivery-in-progress", "Delivery in progress", True)),
    (ConfigurationError, ProblemKind(500, "configuration-error", "Service misconfigured", False)),
    (RetryableError, ProblemKind(503, "temporarily-unavailable", "Temporarily unavailable", False)),
    (PagerDutyUtilsError, ProblemKind(500, "internal-error", "Internal error", False)),
)
_UNEXPECTED = ProblemKind(500, "internal-error", "Internal error", False)
_GENERIC_DETAILS = {
    # Which check a token failed (expired, forged, wrong audience) is for the audit log, not for the caller.
    401: "The credentials are not a valid, unexpired bearer token.",
    403: "The request signature does not match any active secret.",
    500: "The request could not be processed; it can be retried later.",
    503: "A dependency is temporarily unavailable; retry later.",
}


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem document and the headers that go with it."""

    kind: ProblemKind
    detail: str
    request_id: str | None
    retry_after: int | None = None

    def body(self) -> dict[str, str | int]:
        document: dict[str, str | int] = {
            "type": PROBLEM_TYPE_PREFIX + self.kind.slug,
            "title": self.kind.title,
            "status": self.kind.status,
            "detail": self.detail,
        }
        if self.request_id:
            document["instance"] = f"urn:request:{self.request_id}"
        return document

    def headers(self) -> dict[str, str]:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        if self.kind.status == 401:
            headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return headers


def problem_for(error: Exception, *, request_id: str | None = None) -> Problem:
    """The problem document for ``error``; details only from our own errors that carry no secrets."""
    kind = next((kind for error_type, kind in _PROBLEM_KINDS if isinstance(error, error_type)), _UNEXPECTED)
    detail = str(error) if kind.exposes_detail and str(error) else _GENERIC_DETAILS.get(kind.status, kind.title)
    retry_after = None
    if isinstance(error, RetryableError) and error.retry_after is not None:
        retry_after = max(1, round(error.retry_after))
    return Problem(kind=kind, detail=detail, request_id=request_id, retry_after=retry_after)


def dependency_error(operation: str, error: ClientError | BotoCoreError) -> ConfigurationError | DependencyError:
    """An AWS failure as a domain error: missing resources and permissions need a human, the rest a retry."""
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "")) or "error"
        if code in _AWS_CONFIGURATION_CODES:
            return ConfigurationError(f"{operation} failed: {code}")
        return DependencyError(f"{operation} failed: {code}")
    return DependencyError(f"{operation} failed: {type(error).__name__}")


def register_error_handlers(app: ApiGatewayResolver, *, logger: Logger, audit: AuditLogger) -> None:
    """Route every exception a route raises through ``problem_for``: one log line, one problem response, and an
    audit record for configuration errors (they silently break every delivery until someone fixes them).
    The resolver's own HTTP errors (no such route: 404) keep their status, as problems too."""
    # HTTP handlers only: the rest of the library uses this module without loading the event handler.
    from aws_lambda_powertools.event_handler import Response  # noqa: PLC0415
    from aws_lambda_powertools.event_handler.exceptions import ServiceError  # noqa: PLC0415

    def respond(problem: Problem) -> Response[str]:
        return Response(
            status_code=problem.kind.status,
            content_type=PROBLEM_CONTENT_TYPE,
            body=json.dumps(problem.body()),
            headers=problem.headers(),
        )

    def request_id() -> str | None:
        context = app.current_event.get("requestContext") or {}
        return str(context["requestId"]) if context.get("requestId") else None

    @app.exception_handler(ServiceError)  # type: ignore[untyped-decorator]  # Powertools leaves it unannotated
    def handle_http_error(error: ServiceError) -> Response[str]:
        status = HTTPStatus(error.status_code)
        kind = ProblemKind(status.value, status.phrase.lower().replace(" ", "-"), status.phrase, True)
        problem = Problem(kind=kind, detail=str(error.msg), request_id=request_id())
        _log(logger, error, problem)
        return respond(problem)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]  # Powertools leaves it unannotated
    def handle(error: Exception) -> Response[str]:
        problem = problem_for(error, request_id=request_id())
        _log(logger, error, problem)
        if isinstance(error, ConfigurationError):
            audit.record("configuration", "failed", reason=str(error), request_id=problem.request_id)
        return respond(problem)


def _log(logger: Logger, error: Exception, problem: Problem) -> None:
    fields: dict[str, str | int] = {"status": problem.kind.status, "error_type": type(error).__name__}
    if isinstance(error, PagerDutyUtilsError):
        fields["reason"] = str(error)
    elif error.__traceback__ is not None:
        last_frame = error.__traceback__
        while last_frame.tb_next is not None:
            last_frame = last_frame.tb_next
        fields["raised_at"] = f"{last_frame.tb_frame.f_code.co_filename}:{last_frame.tb_lineno}"
    if problem.kind.status >= 500:
        logger.error("request failed", extra=fields)
    else:
        logger.warning("request refused", extra=fields)
