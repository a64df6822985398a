"""PagerDuty Webhooks v3 receiver: ``POST /webhooks/pagerduty`` and ``GET /health`` behind API Gateway (REST).

A delivery is verified on its raw body, processed once and published on the event bus
(``pagerduty_utils.webhook_processor``); errors become RFC 9457 problems (``pagerduty_utils.error_handler``).
Settings and AWS clients are built once per container: in Lambda while the module is imported (``init_phase``),
elsewhere on the first invocation; tests pass ``dependencies`` instead.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pagerduty_utils.audit_logger import audit_logger
from pagerduty_utils.error_handler import register_error_handlers
from pagerduty_utils.init_phase import build_during_init
from pagerduty_utils.observability import logger, metrics, tracer
from pagerduty_utils.settings import ReceiverSettings, load_settings
from pagerduty_utils.webhook_processor.api_gateway import header, request_id, webhook_request_from
from pagerduty_utils.webhook_processor.health_access import AUTHORIZATION_HEADER, health_view
from pagerduty_utils.webhook_processor.wiring import ReceiverDependencies, build_dependencies

JSON = "application/json"

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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)  # the response holds the full health report
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, dependencies: ReceiverDependencies | None = None
) -> dict[str, Any]:
    """``dependencies`` replace the ones built (once per container) from the environment."""
    app.context.update(dependencies=dependencies)
    return app.resolve(event, context)
