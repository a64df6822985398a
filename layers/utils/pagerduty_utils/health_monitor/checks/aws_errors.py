"""How an AWS failure counts: throttling means working but saturated (degraded); anything else is unhealthy."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.health_monitor.report import CheckOutcome

_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "RequestThrottledException",
    }
)

AWS_ERRORS = (ClientError, BotoCoreError)


def aws_failure(action: str, exc: ClientError | BotoCoreError) -> CheckOutcome:
    """The outcome of ``action`` failing with ``exc``; the reason names the error code, never request data."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "error")
        if code in _THROTTLING_CODES:
            return CheckOutcome.degraded(f"{action} throttled ({code})")
        return CheckOutcome.unhealthy(f"{action} failed: {code}")
    return CheckOutcome.unhealthy(f"{action} failed: {type(exc).__name__}")
