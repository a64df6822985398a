"""From an API Gateway REST (proxy v1) event to a ``WebhookRequest``: the body bytes exactly as PagerDuty sent
them (base64-decoded when API Gateway encoded them, never re-serialized) and the headers, looked up without
regard to case, repeated headers joined with commas as HTTP allows."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pagerduty_utils.exceptions import PayloadTooLargeError, ValidationError
from pagerduty_utils.webhook_processor.processing import WebhookRequest
from pagerduty_utils.webhook_processor.signature import SIGNATURE_HEADER

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

WEBHOOK_ID_HEADER = "X-Webhook-Id"
# What API Gateway's REST proxy integration always sends, and the resolver routes on.
PROXY_ROUTING_FIELDS = ("httpMethod", "path")


def is_rest_proxy_event(event: object) -> bool:
    """Whether ``event`` is an API Gateway REST (v1) proxy event, the only kind the receiver serves."""
    return isinstance(event, Mapping) and all(isinstance(event.get(name), str) for name in PROXY_ROUTING_FIELDS)


def webhook_request_from(event: APIGatewayProxyEvent, *, max_body_bytes: int) -> WebhookRequest:
    return WebhookRequest(
        body=raw_body(event, max_body_bytes=max_body_bytes),
        signature_header=header(event, SIGNATURE_HEADER),
        webhook_id=header(event, WEBHOOK_ID_HEADER),
        request_id=request_id(event),
    )


def raw_body(event: APIGatewayProxyEvent, *, max_body_bytes: int) -> bytes:
    """The body bytes; ``PayloadTooLargeError`` past ``max_body_bytes`` (checked before decoding, too)."""
    body = event.body or ""
    if event.is_base64_encoded:
        if len(body) > 4 * (max_body_bytes // 3 + 1):
            raise PayloadTooLargeError(f"body exceeds {max_body_bytes} bytes")
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error:
            raise ValidationError("body is not valid base64") from None
    else:
        if len(body) > max_body_bytes:
            raise PayloadTooLargeError(f"body exceeds {max_body_bytes} bytes")
        # API Gateway decoded the bytes as UTF-8 text: encoding it back restores them exactly.
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > max_body_bytes:
        raise PayloadTooLargeError(f"body exceeds {max_body_bytes} bytes")
    return raw


def header(event: APIGatewayProxyEvent, name: str) -> str | None:
    values = event.multi_value_headers.get(name) if event.get("multiValueHeaders") else None
    if values:
        return ",".join(values)
    return event.headers.get(name)


def request_id(event: APIGatewayProxyEvent) -> str:
    context = event.get("requestContext") or {}
    return str(context.get("requestId") or "unknown")
