"""A naive alert forwarder: the peer of the cold-start benchmark (bench/bench_cold_start.py), not shipped.

What a team would write first with Powertools and PagerDuty's official client (``pagerduty``): Logger, Metrics
and Tracer on the handler, the SQS batch processor, the EventBridge parser model, Powertools idempotency on
the state table and the routing keys from Secrets Manager through Powertools Parameters, one
``EventsApiV2Client`` per send. Everything is built when first needed, as such a handler usually is.
"""

from __future__ import annotations

import json
import os
from typing import Any, cast

import pagerduty
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parameters import get_secret
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = Metrics()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)
persistence = DynamoDBPersistenceLayer(
    table_name=os.environ["STATE_TABLE_NAME"], key_attr="pk", expiry_attr="expiration"
)
idempotency = IdempotencyConfig(event_key_jmespath="dedup_key")


@idempotent_function(data_keyword_argument="alert", persistence_store=persistence, config=idempotency)  # type: ignore[untyped-decorator]
def send(alert: dict[str, Any]) -> str:
    routing_keys = json.loads(str(get_secret(os.environ["ROUTING_KEYS_SECRET_ID"], max_age=300)))
    client = pagerduty.EventsApiV2Client(routing_keys.get(alert["team"], routing_keys["default"]))
    if "PAGERDUTY_EVENTS_URL" in os.environ:  # the simulator speaks http, which the url setter refuses
        client._url = os.environ["PAGERDUTY_EVENTS_URL"]
    return str(client.send_event(alert["action"], alert["dedup_key"], payload=alert["payload"]))


def record_handler(record: SQSRecord) -> None:
    event = parse(event=json.loads(record.body), model=EventBridgeModel)
    detail = cast("dict[str, Any]", event.detail)
    send(
        alert={
            "dedup_key": detail["dedup_key"],
            "team": detail.get("tags", {}).get("team", "default"),
            "action": "resolve" if detail.get("state") == "resolved" else "trigger",
            "payload": {
                "summary": detail["summary"],
                "source": event.source,
                "severity": detail.get("severity", "error"),
                "component": detail.get("component"),
                "custom_details": detail.get("details", {}),
            },
        }
    )
    metrics.add_metric(name="Forwarded", unit="Count", value=1)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
