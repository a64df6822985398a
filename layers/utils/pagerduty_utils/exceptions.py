"""Domain errors shared by the library and the handlers.

Every error says whether retrying can help (``retryable``). Handlers map these to queue outcomes (retry or
dead-letter) and to HTTP responses in one place each (``error_handler``); nothing else inspects exception types.
"""

from __future__ import annotations


class PagerDutyUtilsError(Exception):
    """Base class of every error this library raises on purpose."""

    retryable: bool = False


class ConfigurationError(PagerDutyUtilsError):
    """A setting, secret or routing rule is missing or invalid. Fixing it needs a human, not a retry."""


class ValidationError(PagerDutyUtilsError):
    """Input that can never be processed as sent (malformed event, oversized body, bad field)."""


class SignatureError(PagerDutyUtilsError):
    """A webhook whose signature header is missing, malformed or does not match any active secret."""


class RetryableError(PagerDutyUtilsError):
    """A transient failure: the same request may succeed later (throttling, 5xx, timeouts, open circuit)."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DependencyError(RetryableError):
    """An AWS dependency (DynamoDB, EventBridge, SNS, SQS, KMS, secrets) failed transiently."""


class MalformedSignatureError(SignatureError):
    """A signature header is missing or cannot be parsed: the sender is not following the protocol."""


class InvalidCredentialsError(SignatureError):
    """A request's ``Authorization`` header is not a bearer token that verifies."""


class PayloadTooLargeError(ValidationError):
    """A request body is larger than the configured limit."""


class DeliveryInProgressError(RetryableError):
    """Another invocation is processing the same delivery right now; the sender should retry later."""
