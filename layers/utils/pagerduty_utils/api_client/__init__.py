"""PagerDuty clients for Lambda: Events API v2 and REST API v2, sync and async, with a deadline-aware retry.

In a handler, build the client once per container and give every call the invocation's deadline, so a slow or
throttling PagerDuty yields a retryable error (with ``retry_after``) while there is still time to hand the work
back to its queue::

    events = EventsClient.from_settings(settings)                      # first invocation, then cached
    deadline = deadline_from_context(context, safety_margin=2.0)
    try:
        result = events.send(event, deadline=deadline)
    except PagerDutyAPIError as error:
        ...  # error.retryable / error.retry_after decide between "retry later" and "dead-letter"

Async handlers send concurrently with ``AsyncEventsClient`` and run through ``run_async`` (one event loop per
container, so pooled connections survive warm invocations). See ``events``, ``rest`` and ``retry``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pagerduty_utils import lazy_exports

if TYPE_CHECKING:
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

# Each name is imported from its submodule on first use (PEP 562), so a function that needs only the Events
# client (the forwarder) or only the REST client (the health checker) does not load the other at cold start.
_SUBMODULE_OF = {
    "AuthenticationError": "errors",
    "DeadlineExceededError": "errors",
    "InvalidEventError": "errors",
    "InvalidRequestError": "errors",
    "NotFoundError": "errors",
    "PagerDutyAPIError": "errors",
    "PagerDutyUnavailableError": "errors",
    "RateLimitedError": "errors",
    "AsyncEventsClient": "events",
    "EventResult": "events",
    "EventsClient": "events",
    "PagerDutyAPIClient": "rest",
    "PagerDutyAPIClientSync": "rest",
    "RestClientSettings": "rest",
    "RetryPolicy": "retry",
    "deadline_from_context": "retry",
    "Timeouts": "transport",
    "run_async": "transport",
}

__getattr__, __dir__ = lazy_exports(__name__, _SUBMODULE_OF)


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
