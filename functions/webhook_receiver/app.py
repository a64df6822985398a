"""PagerDuty Webhooks v3 receiver: ``POST /webhooks/pagerduty`` and ``GET /health`` behind API Gateway (REST).

A delivery is verified on its raw body, processed once and published on the event bus
(``pagerduty_utils.webhook_processor``); errors become RFC 9457 problems (``pagerduty_utils.error_handler``).
Settings and AWS clients are built once per container: in Lambda while the module is imported (``init_phase``),
elsewhere on the first invocation; tests pass ``dependencies`` instead.
"""

from __future__ import annotations

from pagerduty_utils.init_phase import build_during_init, pause_collection

pause_collection()  # before the handler's imports: Init runs uncollected, see pagerduty_utils.init_phase

import functools
import json
import warnings
from collections.abc import Callable
from functools import cache
from typing import Any, ParamSpec, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pagerduty_utils.audit_logger import audit_logger
from pagerduty_utils.error_handler import PROBLEM_CONTENT_TYPE, problem_for, register_error_handlers
from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.observability import logger, metrics, tracer
from pagerduty_utils.settings import ReceiverSettings, load_settings
from pagerduty_utils.webhook_processor.api_gateway import (
    PROXY_ROUTING_FIELDS,
    header,
    is_rest_proxy_event,
    request_id,
    webhook_request_from,
)
from pagerduty_utils.webhook_processor.health_access import AUTHORIZATION_HEADER, health_view
from pagerduty_utils.webhook_processor.wiring import ReceiverDependencies, build_dependencies

JSON = "application/json"
EMPTY_METRICS_WARNING = "No application metrics to publish"
P = ParamSpec("P")
R = TypeVar("R")

app = APIGatewayRestResolver()
register_error_handlers(app, logger=logger, audit=audit_logger)


@app.post("/webhooks/pagerduty")
def receive_webhook() -> Response[str]:
    dependencies = _dependencies()
    request = webhook_request_from(app.current_event, max_body_bytes=dependencies.max_body_bytes)
    outcome = dependencies.processor.handle(request)
    return Response(status_code=200, content_type=JSON, body=json.dumps(outcome.body()))


@app.get("/health")
def health() -> Response[str]:
    """The status for anyone; the full report for a valid bearer token (``webhook_processor.health_access``)."""
    dependencies = _dependencies()
    full = dependencies.health_access.allows_full_report(
        header(app.current_event, AUTHORIZATION_HEADER), request_id=request_id(app.current_event)
    )
    view = health_view(dependencies.health.latest(), full=full)
    return Response(status_code=view.status_code, content_type=JSON, body=json.dumps(view.body))


def _dependencies() -> ReceiverDependencies:
    injected: ReceiverDependencies | None = app.context.get("dependencies")
    return injected or _default_dependencies()


@cache
def _default_dependencies() -> ReceiverDependencies:
    return build_dependencies(load_settings(ReceiverSettings))


build_during_init(_default_dependencies)


def _quiet_without_metrics(handler: Callable[P, R]) -> Callable[P, R]:
    """GET /health emits no metric, as expected; Powertools warns about every such invocation unless its
    warning is filtered, as its metrics documentation shows: here around the handler's own invocations."""

    @functools.wraps(handler)
    def quiet(*args: P.args, **kwargs: P.kwargs) -> R:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=EMPTY_METRICS_WARNING, category=UserWarning)
            return handler(*args, **kwargs)

    return quiet


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)  # the response holds the full health report
@_quiet_without_metrics
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, dependencies: ReceiverDependencies | None = None
) -> dict[str, Any]:
    """``dependencies`` replace the ones built (once per container) from the environment."""
    if not is_rest_proxy_event(event):
        return _not_a_proxy_event(event)
    app.context.update(dependencies=dependencies)
    return app.resolve(event, context)


def _not_a_proxy_event(event: object) -> dict[str, Any]:
    """A clear refusal for an invocation that did not come through API Gateway (a test event, a wrong target)."""
    fields = ", ".join(sorted(map(str, event))) if isinstance(event, dict) else type(event).__name__
    logger.warning("not an API Gateway REST proxy event", extra={"event_fields": fields})
    expected = " and ".join(PROXY_ROUTING_FIELDS)
    problem = problem_for(
        ValidationError(
            f"the webhook receiver takes API Gateway REST (v1) proxy events, with {expected}; "
            f"this event has: {fields or 'no fields'}"
        )
    )
    return {
        "statusCode": problem.kind.status,
        "headers": {"Content-Type": PROBLEM_CONTENT_TYPE, **problem.headers()},
        "body": json.dumps(problem.body()),
    }
