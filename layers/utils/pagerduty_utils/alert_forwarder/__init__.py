"""The alert forwarder's pipeline: SQS records in, PagerDuty Events API v2 out.

``intake`` turns the queue's records into inbound messages, ``routing`` plans each one (normalize, route, routing
key), ``forwarding`` delivers the plans under the rate limiter and the circuit with the ``delivery_ledger`` as
duplicate and stale guard (``race_repair`` for concurrent deliveries), ``queue_backoff`` schedules what must wait,
``dead_letter`` parks what can never be delivered, and ``wiring`` builds all of it once per container. ``batch``
holds the types that pass between the stages.
"""
