"""PagerDuty clients for Lambda: Events API v2 and REST API v2, sync and async, with a deadline-aware retry.

Everything a caller needs is importable from here; see ``events``, ``rest`` and ``retry`` for the details.
"""

from pagerduty_utils.api_client.errors import (
    AuthenticationError,
    DeadlineExceededError,
    InvalidEventError,
    InvalidRequestError,
    NotFoundError,
    PagerDutyAPIError,
    PagerDutyUnavailableError,
    RateLimitedError,
)
from pagerduty_utils.api_client.events import AsyncEventsClient, EventResult, EventsClient
from pagerduty_utils.api_client.rest import PagerDutyAPIClient, PagerDutyAPIClientSync, RestClientSettings
from pagerduty_utils.api_client.retry import RetryPolicy, deadline_from_context
from pagerduty_utils.api_client.transport import Timeouts, run_async

__all__ = [
    "AsyncEventsClient",
    "AuthenticationError",
    "DeadlineExceededError",
    "EventResult",
    "EventsClient",
    "InvalidEventError",
    "InvalidRequestError",
    "NotFoundError",
    "PagerDutyAPIClient",
    "PagerDutyAPIClientSync",
    "PagerDutyAPIError",
    "PagerDutyUnavailableError",
    "RateLimitedError",
    "RestClientSettings",
    "RetryPolicy",
    "Timeouts",
    "deadline_from_context",
    "run_async",
]
