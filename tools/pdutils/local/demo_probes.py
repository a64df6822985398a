"""What ``pdutils demo`` looks for on a running local stack: each probe waits for one thing to have happened
and describes it, or returns None when it did not happen in time."""

from __future__ import annotations

import json
from typing import Any

import httpx

from pdutils.local.local_stack import LocalStack
from pdutils.local.scheduler import Scheduler
from pdutils.local.waiting import wait_for


class DemoProbes:
    def __init__(self, stack: LocalStack, *, timeout: float) -> None:
        self._stack = stack
        self._timeout = timeout

    def tap_bus(self, bus_name: str, tap_name: str) -> str:
        """A queue receiving every event of ``bus_name`` (a rule added for the demo); its URL."""
        sqs = self._stack.target.client("sqs")
        queue = sqs.create_queue(QueueName=tap_name)
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue["QueueUrl"], AttributeNames=["QueueArn"])["Attributes"]
        events = self._stack.target.client("events")
        account_id = self._stack.stack.resolver.account_id
        events.put_rule(Name=tap_name, EventBusName=bus_name, EventPattern=json.dumps({"account": [account_id]}))
        events.put_targets(
            Rule=tap_name, EventBusName=bus_name, Targets=[{"Id": "demo-tap", "Arn": queue_arn["QueueArn"]}]
        )
        url: str = queue["QueueUrl"]
        return url

    def incident(self, alarm_name: str, status: str) -> str | None:
        def probe() -> str | None:
            with self._stack.simulator.state.lock:
                for incident in self._stack.simulator.state.incidents.values():
                    if alarm_name in incident.incident_key and incident.status == status:
                        return f"#{incident.number} ({incident.id}) is {status}, dedup key {incident.incident_key}"
            return None

        return wait_for(probe, timeout=self._timeout)

    def webhook_delivery(self, event_type: str) -> str | None:
        def probe() -> str | None:
            with self._stack.simulator.state.lock:
                for delivery in self._stack.simulator.state.webhook_deliveries:
                    if delivery.event_type == event_type and delivery.status is not None and delivery.status < 300:
                        return f"delivered to {delivery.url}, the receiver answered {delivery.status}"
            return None

        return wait_for(probe, timeout=self._timeout)

    def bus_event(self, tap_url: str, incident_status: str) -> str | None:
        sqs = self._stack.target.client("sqs")

        def probe() -> str | None:
            for message in sqs.receive_message(QueueUrl=tap_url, WaitTimeSeconds=1).get("Messages", []):
                sqs.delete_message(QueueUrl=tap_url, ReceiptHandle=message["ReceiptHandle"])
                event: dict[str, Any] = json.loads(message["Body"])
                if incident_status in event.get("detail-type", ""):
                    incident = (event.get("detail") or {}).get("incident") or {}
                    about = f"incident {incident.get('id')} is {incident.get('status')}" if incident else "no incident"
                    return f"{event['detail-type']} from {event['source']}, {about}"
            return None

        return wait_for(probe, timeout=self._timeout)

    def health_run(self, schedule: Scheduler) -> str | None:
        invocation = schedule.fire_now()
        report = (invocation.result or {}).get("report") if isinstance(invocation.result, dict) else None
        if invocation.failed or not isinstance(report, dict):
            return None
        for check in report.get("checks", []):
            print(f"      {check['status']:9} {check['name']:20} {check['latency_ms']:7.1f} ms  {check['reason']}")
        status = report.get("status")
        return f"overall {status}" if status == "healthy" else None

    def health_endpoint(self) -> str | None:
        response = httpx.get(f"{self._stack.api.url}/health", timeout=self._timeout)
        if response.status_code != 200:
            return None
        return f"200, status {response.json().get('status')!r}"

    def sample_event(self, function_id: str, event: Any) -> str | None:
        """Invoke ``function_id`` with ``event``; describe a successful result and the PagerDuty calls it made."""
        state = self._stack.simulator.state
        with state.lock:
            requests_before = len(state.requests)
        invocation = self._stack.runners[function_id].invoke(event)
        with state.lock:
            pagerduty_requests = len(state.requests) - requests_before
        outcome = _describe(invocation.result)
        if invocation.failed or outcome is None:
            return None
        return f"{outcome}, {pagerduty_requests} request(s) to PagerDuty, {invocation.duration_ms:.0f} ms"


def _describe_http(result: dict[str, Any]) -> str | None:
    """An API Gateway proxy result: a 2xx, unless the body says the request was ignored (a receiver answers
    2xx to a stale or unknown webhook so that the sender stops retrying, yet it processed nothing)."""
    if not 200 <= result["statusCode"] < 300:
        return None
    disposition = _json_object(result.get("body")).get("status")
    if disposition == "ignored":
        return None
    return f"HTTP {result['statusCode']}" + (f", {disposition}" if isinstance(disposition, str) else "")


def _json_object(body: Any) -> dict[str, Any]:
    try:
        document = json.loads(body) if isinstance(body, str) else None
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _describe(result: Any) -> str | None:
    """What a handler's result says, or None when it reports a failure (HTTP error, failed batch items)."""
    if not isinstance(result, dict):
        return "done" if result is None else f"returned {json.dumps(result)[:60]}"
    if "statusCode" in result:
        return _describe_http(result)
    if "batchItemFailures" in result:
        return None if result["batchItemFailures"] else "no batch item failures"
    if isinstance(result.get("report"), dict):
        return f"report {result['report'].get('status')}"
    return f"returned {json.dumps(result)[:60]}"
