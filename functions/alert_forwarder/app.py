"""Alert forwarder: AWS alerts (SQS batches of SNS/EventBridge messages, or direct SNS/EventBridge) to PagerDuty.

The path of an alert, all in ``pagerduty_utils.alert_forwarder``: ``intake`` reads the invocation, ``routing`` maps
and routes each message, ``forwarding`` delivers (ledger, rate limiter, circuit breaker, concurrent sends, DLQ,
backoff) and ``intake`` shapes the answer (partial batch failures, or an error for Lambda to retry).
The forwarder is built once per container (``alert_forwarder.wiring``): in Lambda while the module is imported, where
Init's full vCPU makes it cheapest (``init_phase``), elsewhere on the first invocation; tests pass their own
``forwarder``.
"""

from __future__ import annotations

from pagerduty_utils.init_phase import build_during_init, pause_collection

pause_collection()  # before the handler's imports: Init runs uncollected, see pagerduty_utils.init_phase

from functools import cache
from typing import TYPE_CHECKING, Any

from pagerduty_utils.observability import logger, metrics, tracer
from pagerduty_utils.settings import ForwarderSettings, load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from pagerduty_utils.alert_forwarder.wiring import Forwarder

# The SQS message id of the batch's first record, the SNS message id, or the EventBridge event id.
CORRELATION_ID_PATH = "Records[0].messageId || Records[0].Sns.MessageId || id"


@cache
def _default_forwarder() -> Forwarder:
    from pagerduty_utils.alert_forwarder.wiring import build_forwarder  # noqa: PLC0415  # tests inject their own

    return build_forwarder(load_settings(ForwarderSettings))


build_during_init(_default_forwarder)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, forwarder: Forwarder | None = None
) -> dict[str, Any] | None:
    """SQS: ``{"batchItemFailures": [...]}``. Direct SNS/EventBridge: None, or raises to be retried."""
    return (forwarder or _default_forwarder()).handle(event, context)
