"""The REST API v2 endpoints the project uses: incidents (create, get, update, list, notes), services,
abilities, users/me and the audit trail, with PagerDuty's ``From`` rule, classic offset pagination and
cursor pagination.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pdutils.simulator.incidents import SIMULATED_USER_EMAIL, SIMULATED_USER_ID, IncidentLifecycle, user_reference
from pdutils.simulator.replies import APIError, Reply
from pdutils.simulator.state import OPEN_STATUSES, WEB_HOST, AuditEntry, Incident, Service, SimulatorState

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_OFFSET_WINDOW = 10_000
ABILITIES = ("sso", "advanced_reports", "teams", "urgencies", "read_only_users", "event_rules", "response_operations")
WRITABLE_STATUSES = frozenset({"acknowledged", "resolved"})
ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class RestRequest:
    method: str
    path: str
    query: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]
    body: Any

    def first(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def integer(self, name: str, default: int) -> int:
        raw = self.first(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise APIError(400, [f"{name} must be an integer"]) from None

    def from_email(self) -> str:
        """The ``From`` header PagerDuty requires on incident writes (400 without it)."""
        sender = self.headers.get("from", "").strip()
        if not sender:
            raise APIError(400, ['You must specify a user\'s email address in the "From" header.'])
        return sender


def paginate(
    items: Sequence[ItemT], request: RestRequest, collection: str, render: Callable[[ItemT], dict[str, Any]]
) -> dict[str, Any]:
    """Classic offset pagination: ``limit``/``offset``/``more``/``total``, capped at offset+limit 10,000.

    Only the items on the page are rendered, so listing stays cheap however many there are.
    """
    limit = request.integer("limit", DEFAULT_PAGE_SIZE)
    offset = request.integer("offset", 0)
    if limit < 1 or offset < 0:
        raise APIError(400, ["limit must be positive and offset must not be negative"])
    limit = min(limit, MAX_PAGE_SIZE)
    if offset + limit > MAX_OFFSET_WINDOW:
        raise APIError(400, [f"Offset must be less than {MAX_OFFSET_WINDOW} (offset + limit > {MAX_OFFSET_WINDOW})"])
    page = [render(item) for item in items[offset : offset + limit]]
    with_total = request.first("total") == "true"
    return {
        collection: page,
        "limit": limit,
        "offset": offset,
        "more": offset + len(page) < len(items),
        "total": len(items) if with_total else None,
    }


def paginate_by_cursor(items: Sequence[dict[str, Any]], request: RestRequest, collection: str) -> dict[str, Any]:
    """Cursor pagination: an opaque ``cursor`` in, ``next_cursor`` out (None on the last page)."""
    limit = min(request.integer("limit", MAX_PAGE_SIZE), MAX_PAGE_SIZE)
    if limit < 1:
        raise APIError(400, ["limit must be positive"])
    cursor = request.first("cursor")
    start = decode_cursor(cursor) if cursor else 0
    end = start + limit
    next_cursor = encode_cursor(end) if end < len(items) else None
    return {collection: list(items[start:end]), "limit": limit, "next_cursor": next_cursor}


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"position:{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        label, position = base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)
        if label != "position" or int(position) < 0:
            raise ValueError(cursor)
        return int(position)
    except ValueError:  # also bad base64 and bad UTF-8
        raise APIError(400, ["cursor is not valid"]) from None


Handler = Callable[[RestRequest, dict[str, str]], Reply]


@dataclass
class RestAPI:
    state: SimulatorState
    lifecycle: IncidentLifecycle

    def routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        return [
            ("GET", re.compile(r"/incidents"), self.list_incidents),
            ("POST", re.compile(r"/incidents"), self.create_incident),
            ("GET", re.compile(r"/incidents/(?P<id>[^/]+)"), self.get_incident),
            ("PUT", re.compile(r"/incidents/(?P<id>[^/]+)"), self.update_incident),
            ("GET", re.compile(r"/incidents/(?P<id>[^/]+)/notes"), self.list_notes),
            ("POST", re.compile(r"/incidents/(?P<id>[^/]+)/notes"), self.create_note),
            ("GET", re.compile(r"/services"), self.list_services),
            ("GET", re.compile(r"/services/(?P<id>[^/]+)"), self.get_service),
            ("GET", re.compile(r"/services/(?P<id>[^/]+)/audit/records"), self.service_audit_records),
            ("GET", re.compile(r"/audit/records"), self.audit_records),
            ("GET", re.compile(r"/abilities"), self.list_abilities),
            ("GET", re.compile(r"/users/me"), self.current_user),
        ]

    def resolve(self, request: RestRequest) -> tuple[Handler, dict[str, str]]:
        """The handler for ``request`` and its path parameters (404 unknown path, 405 wrong method)."""
        path_known = False
        for method, pattern, handler in self.routes():
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            path_known = True
            if method == request.method:
                return handler, match.groupdict()
        if path_known:
            raise APIError(405, [f"{request.method} is not allowed on {request.path}"], message="Method Not Allowed")
        raise APIError(404, [f"{request.path} is not simulated"])

    def _incident(self, incident_id: str) -> Incident:
        incident = self.state.incidents.get(incident_id)
        if incident is None:
            raise APIError(404, [f"Incident {incident_id} not found"])
        return incident

    def list_incidents(self, request: RestRequest, _: dict[str, str]) -> Reply:
        statuses = set(request.query.get("statuses[]", ())) or None
        services = set(request.query.get("service_ids[]", ())) or None
        incident_key = request.first("incident_key")
        with self.state.lock:
            matching = [
                incident
                for incident in self.state.incidents.values()
                if (statuses is None or incident.status in statuses)
                and (services is None or incident.service_id in services)
                and (incident_key is None or incident.incident_key == incident_key)
            ]
            return Reply(200, paginate(matching, request, "incidents", self.lifecycle.rest_view))

    def create_incident(self, request: RestRequest, _: dict[str, str]) -> Reply:
        sender = request.from_email()
        document = request.body.get("incident") if isinstance(request.body, dict) else None
        if not isinstance(document, dict):
            raise APIError(400, ["incident is required"])
        service = document.get("service")
        service_id = service.get("id") if isinstance(service, dict) else None
        if not isinstance(service_id, str):
            raise APIError(400, ["incident.service must be a service reference with an id"])
        with self.state.lock:
            if service_id not in self.state.services:
                raise APIError(400, [f"Service {service_id} not found"])
            incident_key = document.get("incident_key")
            if incident_key and any(
                incident.incident_key == incident_key
                and incident.service_id == service_id
                and incident.status in OPEN_STATUSES
                for incident in self.state.incidents.values()
            ):
                raise APIError(400, ["Open incident with matching dedup key already exists on this service"])
            body = document.get("body") or {}
            details = body.get("details")
            incident = self.lifecycle.open(
                title=str(document.get("title", "")),
                service_id=service_id,
                incident_key=incident_key or uuid.uuid4().hex,
                urgency=document.get("urgency", "high"),
                details=None if details is None else str(details),
                agent=user_reference(self.lifecycle.api_url, sender),
                client=None,
            )
            return Reply(201, {"incident": self.lifecycle.rest_view(incident)})

    def get_incident(self, _: RestRequest, params: dict[str, str]) -> Reply:
        with self.state.lock:
            return Reply(200, {"incident": self.lifecycle.rest_view(self._incident(params["id"]))})

    def update_incident(self, request: RestRequest, params: dict[str, str]) -> Reply:
        sender = request.from_email()
        document = request.body.get("incident") if isinstance(request.body, dict) else None
        if not isinstance(document, dict):
            raise APIError(400, ["incident is required"])
        with self.state.lock:
            incident = self._incident(params["id"])
            status = document.get("status")
            if status is not None:
                if status not in WRITABLE_STATUSES:
                    raise APIError(400, ["status must be acknowledged or resolved"])
                agent = user_reference(self.lifecycle.api_url, sender)
                self.lifecycle.change_status(incident, status, agent=agent)
            if "title" in document:
                incident.title = str(document["title"])
            if "urgency" in document:
                incident.urgency = str(document["urgency"])
            return Reply(200, {"incident": self.lifecycle.rest_view(incident)})

    def list_notes(self, _: RestRequest, params: dict[str, str]) -> Reply:
        with self.state.lock:
            incident = self._incident(params["id"])
            return Reply(200, {"notes": [self.lifecycle.note_view(note) for note in incident.notes]})

    def create_note(self, request: RestRequest, params: dict[str, str]) -> Reply:
        sender = request.from_email()
        document = request.body.get("note") if isinstance(request.body, dict) else None
        if not isinstance(document, dict) or not isinstance(document.get("content"), str):
            raise APIError(400, ["note.content is required"])
        with self.state.lock:
            note = self.lifecycle.add_note(self._incident(params["id"]), document["content"], sender)
            return Reply(201, {"note": self.lifecycle.note_view(note)})

    def list_services(self, request: RestRequest, _: dict[str, str]) -> Reply:
        name_filter = (request.first("query") or "").lower()
        with self.state.lock:
            matching = [service for service in self.state.services.values() if name_filter in service.name.lower()]
        return Reply(200, paginate(matching, request, "services", self._service_view))

    def _service_view(self, service: Service) -> dict[str, Any]:
        return service.to_dict(self.lifecycle.api_url)

    def get_service(self, _: RestRequest, params: dict[str, str]) -> Reply:
        with self.state.lock:
            service = self.state.services.get(params["id"])
            if service is None:
                raise APIError(404, [f"Service {params['id']} not found"])
            return Reply(200, {"service": service.to_dict(self.lifecycle.api_url)})

    def audit_records(self, request: RestRequest, _: dict[str, str]) -> Reply:
        with self.state.lock:
            records = [self._audit_view(entry) for entry in self.state.audit_trail]
        return Reply(200, paginate_by_cursor(records, request, "records"))

    def service_audit_records(self, request: RestRequest, params: dict[str, str]) -> Reply:
        with self.state.lock:
            if params["id"] not in self.state.services:
                raise APIError(404, [f"Service {params['id']} not found"])
            records = [self._audit_view(entry) for entry in self.state.audit_trail if entry.service_id == params["id"]]
        return Reply(200, paginate_by_cursor(records, request, "records"))

    def _audit_view(self, entry: AuditEntry) -> dict[str, Any]:
        return {
            "id": entry.id,
            "self": f"{self.lifecycle.api_url}/audit/records/{entry.id}",
            "execution_time": entry.execution_time,
            "execution_context": None,
            "actors": [user_reference(self.lifecycle.api_url)],
            "method": {"type": entry.method},
            "root_resource": self.lifecycle.service_reference(entry.service_id),
            "action": entry.action,
            "details": None,
        }

    def list_abilities(self, _: RestRequest, __: dict[str, str]) -> Reply:
        return Reply(200, {"abilities": list(ABILITIES)})

    def current_user(self, _: RestRequest, __: dict[str, str]) -> Reply:
        reference = user_reference(self.lifecycle.api_url)
        user = {
            **reference,
            "type": "user",
            "name": "Simulated User",
            "email": SIMULATED_USER_EMAIL,
            "role": "admin",
            "time_zone": "Etc/UTC",
            "html_url": f"{WEB_HOST}/users/{SIMULATED_USER_ID}",
        }
        return Reply(200, {"user": user})
