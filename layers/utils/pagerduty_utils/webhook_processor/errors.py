"""Webhook-specific refinements of the domain errors; ``error_handler`` maps each to one HTTP status."""

from __future__ import annotations

from pagerduty_utils.exceptions import RetryableError, SignatureError, ValidationError


class MalformedSignatureError(SignatureError):
    """The signature header is missing or cannot be parsed: the sender is not following the protocol."""


class PayloadTooLargeError(ValidationError):
    """The body is larger than the configured limit."""


class DeliveryInProgressError(RetryableError):
    """Another invocation is processing the same event right now; the sender should retry later."""


class InvalidCredentialsError(SignatureError):
    """The request's ``Authorization`` header is not a bearer token that verifies."""
