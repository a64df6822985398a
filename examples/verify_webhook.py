"""Verify PagerDuty Webhooks v3 signatures in your own API Gateway function, before trusting the body.

Shows ``webhook_processor``'s public pieces behind a Powertools ``APIGatewayRestResolver``: ``raw_body`` (the
bytes exactly as PagerDuty signed them), ``parse_signature_header`` (every ``v1=`` entry: PagerDuty sends one per
active secret during a rotation) and ``is_authentic`` (constant-time HMAC-SHA256 against every active secret).
``register_error_handlers`` answers a malformed header 400 and a wrong signature 403, as RFC 9457 problems.
The stack's own receiver (functions/webhook_receiver) adds replay and duplicate protection on top of this.

Environment: WEBHOOK_SECRETS_SECRET_ID (a secret holding a JSON list of the subscription's signing secrets).
Event: events/webhook_incident_acknowledged.json, signed with the example secret ``example-webhook-secret``.
Run: ``pytest tests/integration/test_examples.py -k verify_webhook`` sends it signed, tampered and unsigned.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from pagerduty_utils.audit_logger import audit_logger
from pagerduty_utils.error_handler import register_error_handlers
from pagerduty_utils.exceptions import SignatureError
from pagerduty_utils.observability import logger
from pagerduty_utils.webhook_processor.api_gateway import header, raw_body
from pagerduty_utils.webhook_processor.models import WebhookEnvelope
from pagerduty_utils.webhook_processor.signature import (
    SIGNATURE_HEADER,
    SecretsManagerWebhookSecrets,
    is_authentic,
    parse_signature_header,
)

MAX_BODY_BYTES = 256 * 1024

app = APIGatewayRestResolver()
register_error_handlers(app, logger=logger, audit=audit_logger)


@cache
def webhook_secrets() -> SecretsManagerWebhookSecrets:
    return SecretsManagerWebhookSecrets(os.environ["WEBHOOK_SECRETS_SECRET_ID"], max_age=300)


@app.post("/pagerduty/webhooks")
def receive() -> dict[str, str]:
    body = raw_body(app.current_event, max_body_bytes=MAX_BODY_BYTES)
    signatures = parse_signature_header(header(app.current_event, SIGNATURE_HEADER))
    if not is_authentic(body, signatures, webhook_secrets().active_secrets()):
        raise SignatureError("no signature matches an active secret")
    event = WebhookEnvelope.model_validate_json(body).event
    return {"event_id": event.id, "event_type": event.event_type}


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
