"""Open a PagerDuty incident from your own function, add a note to it, and list the service's open incidents.

Shows the REST API v2 client as the original design documents it, on asyncio:
``incident = await PagerDutyAPIClient().create_incident({"title": ..., "service_id": ..., "urgency": "high"})``.
Without arguments the client reads its settings from the environment and the API token from the secret. The
``incident_key`` makes the create safe to retry (PagerDuty deduplicates on it); ``list_incidents`` is an async
iterator that fetches the next page only when the previous one is consumed. ``run_async`` keeps one event loop
per container, so warm invocations reuse their connections to PagerDuty.

Environment: PAGERDUTY_API_TOKEN_SECRET_ID (the secret holding a REST API token), PAGERDUTY_FROM_EMAIL (a
PagerDuty user's e-mail: PagerDuty requires it on incident writes), PAGERDUTY_REGION or PAGERDUTY_API_URL
(optional, US host by default).
Event: events/create_incident.json (``service_id`` PSIMSV1 is the PagerDuty simulator's default service).
Run: ``pytest tests/integration/test_examples.py -k create_incident`` invokes it against the simulator.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import BaseModel, parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from pagerduty_utils.api_client import PagerDutyAPIClient, deadline_from_context, run_async

OPEN_STATUSES = ["triggered", "acknowledged"]


class IncidentRequest(BaseModel):
    title: str
    service_id: str
    incident_key: str
    details: str
    note: str


async def open_incident(request: IncidentRequest, deadline: float) -> dict[str, Any]:
    client = PagerDutyAPIClient()
    incident = await client.create_incident(
        {
            "title": request.title,
            "service_id": request.service_id,
            "urgency": "high",
            "incident_key": request.incident_key,
            "details": request.details,
        },
        deadline=deadline,
    )
    await client.add_note(incident["id"], request.note, deadline=deadline)
    filters = {"service_ids[]": [request.service_id], "statuses[]": OPEN_STATUSES}
    open_ids = [item["id"] async for item in client.list_incidents(filters, deadline=deadline)]
    return {"incident_id": incident["id"], "html_url": incident["html_url"], "open_incident_ids": open_ids}


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=IncidentRequest)
    return run_async(open_incident(request, deadline_from_context(context)))
