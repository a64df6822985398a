"""The webhook receiver's pipeline: PagerDuty Webhooks v3 in, one EventBridge event per delivery out.

``api_gateway`` adapts the API Gateway request, ``signature`` verifies it, ``models`` parse the payload,
``processing`` applies the rules (verify, claim once, publish), ``incident_state`` is its state in the table (the
delivery claim fused with the incident's newest state), ``normalized`` is the bus event, ``event_publisher`` sends
it (EventBridge, and the optional notification topic), ``health_access`` and ``health_snapshot`` serve
``GET /health``, and ``wiring`` builds it all from ``ReceiverSettings``.

Import the submodule you need; this package imports nothing so that each stays cheap to load.
"""
