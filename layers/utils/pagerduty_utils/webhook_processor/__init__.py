"""The webhook receiver's pipeline: PagerDuty Webhooks v3 in, one EventBridge event per delivery out.

``api_gateway`` adapts the API Gateway request, ``signature`` verifies it, ``models`` parse the payload,
``processing`` applies the rules (verify, claim once, publish), ``incident_state`` is its state in the table (the
delivery claim fused with the incident's newest state), ``normalized`` is the bus event, ``event_publisher`` sends
it (EventBridge, and the optional notification topic), ``health_access`` and ``health_snapshot`` serve
``GET /health``, and ``wiring`` builds it all from ``ReceiverSettings``.

The main names are exported here and load their submodule on first use; this package imports nothing itself
so that each stays cheap to load.
"""

from typing import TYPE_CHECKING

from pagerduty_utils import lazy_exports

if TYPE_CHECKING:
    from pagerduty_utils.webhook_processor.processing import WebhookProcessor, WebhookRequest
    from pagerduty_utils.webhook_processor.signature import is_authentic, parse_signature_header, sign

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "WebhookProcessor": "processing",
        "WebhookRequest": "processing",
        "is_authentic": "signature",
        "parse_signature_header": "signature",
        "sign": "signature",
    },
)
__all__ = ["WebhookProcessor", "WebhookRequest", "is_authentic", "parse_signature_header", "sign"]
