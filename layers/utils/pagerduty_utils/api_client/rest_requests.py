"""REST API v2 request shapes and pagination, independent of how they are sent (sync or async)."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from pagerduty_utils.api_client.errors import InvalidRequestError, PagerDutyAPIError
from pagerduty_utils.observability import logger

ParamValue = str | int | bool | Sequence[str]
Params = Mapping[str, ParamValue]

MAX_OFFSET_WINDOW = 10_000
"""PagerDuty answers classic pagination only while offset + limit <= 10,000."""

# Shorthand fields of the original design's create_incident, and the reference each one becomes.
_REFERENCE_FIELDS = {
    "service_id": ("service", "service_reference"),
    "escalation_policy_id": ("escalation_policy", "escalation_policy_reference"),
    "priority_id": ("priority", "priority_reference"),
}


@dataclass(frozen=True)
class RestRequest:
    """One REST call: ``needs_from`` marks writes PagerDuty only accepts with a ``From`` header."""

    operation: str
    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    needs_from: bool = False
    idempotent: bool = True
    cacheable: bool = False
    result: str = ""
    """The member of the answer that holds the object this call returns (``incident``, ``service``...)."""


def create_incident(incident: Mapping[str, Any]) -> RestRequest:
    """``POST /incidents`` from the original design's flat fields or from a ready ``incident`` object.

    ``{"title", "service_id", "urgency", "body"|"details", "incident_key", "escalation_policy_id",
    "priority_id", "assignee_ids"}`` become PagerDuty's nested references; other keys pass through. With an
    ``incident_key`` a retry after a lost response cannot open a second incident (PagerDuty refuses an open
    duplicate with a 400), so only then is the request retried after a failure that may have reached it.
    """
    fields = dict(incident)
    shaped: dict[str, Any] = {"type": "incident"}
    for flat_name, (name, reference_type) in _REFERENCE_FIELDS.items():
        if flat_name in fields:
            shaped[name] = {"id": fields.pop(flat_name), "type": reference_type}
    body = fields.pop("body", None)
    details = fields.pop("details", body)
    if isinstance(details, str):
        shaped["body"] = {"type": "incident_body", "details": details}
    elif details is not None:
        shaped["body"] = details
    assignees = fields.pop("assignee_ids", None)
    if assignees:
        shaped["assignments"] = [{"assignee": {"id": user, "type": "user_reference"}} for user in assignees]
    shaped.update(fields)
    if "service" not in shaped or "title" not in shaped:
        raise InvalidRequestError("an incident needs a title and a service (service_id)")
    return RestRequest(
        "create_incident",
        "POST",
        "/incidents",
        body={"incident": shaped},
        needs_from=True,
        idempotent="incident_key" in shaped,
        result="incident",
    )


def get_incident(incident_id: str) -> RestRequest:
    return RestRequest("get_incident", "GET", f"/incidents/{_segment(incident_id)}", result="incident")


def update_incident(incident_id: str, changes: Mapping[str, Any]) -> RestRequest:
    """``PUT /incidents/{id}``, e.g. ``{"status": "acknowledged"}``; setting a state twice is harmless."""
    body = {"incident": {"type": "incident_reference", **changes}}
    path = f"/incidents/{_segment(incident_id)}"
    return RestRequest("update_incident", "PUT", path, body=body, needs_from=True, result="incident")


def add_note(incident_id: str, content: str) -> RestRequest:
    return RestRequest(
        "add_note",
        "POST",
        f"/incidents/{_segment(incident_id)}/notes",
        body={"note": {"content": content}},
        needs_from=True,
        idempotent=False,
        result="note",
    )


def get_service(service_id: str) -> RestRequest:
    return RestRequest("get_service", "GET", f"/services/{_segment(service_id)}", cacheable=True, result="service")


def get_abilities() -> RestRequest:
    return RestRequest("get_abilities", "GET", "/abilities", cacheable=True)


def get_current_user() -> RestRequest:
    return RestRequest("get_current_user", "GET", "/users/me", result="user")


class Pager(ABC):
    """Walks a collection page by page: ``first()`` then ``advance(body)`` until it returns no next page."""

    def __init__(
        self,
        operation: str,
        path: str,
        collection: str,
        params: Params | None,
        page_size: int,
        *,
        cacheable: bool = False,
    ) -> None:
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be between 1 and 100")
        self.operation = operation
        self.path = path
        self.collection = collection
        self.params = dict(params or {})
        self.page_size = page_size
        self.cacheable = cacheable

    @abstractmethod
    def first(self) -> RestRequest: ...

    @abstractmethod
    def advance(self, body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], RestRequest | None]: ...

    def _page(self, **position: Any) -> RestRequest:
        params = {**self.params, **position}
        return RestRequest(self.operation, "GET", self.path, params=params, cacheable=self.cacheable)

    def _items(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        items = body.get(self.collection)
        if not isinstance(items, list):
            raise PagerDutyAPIError(f"{self.operation}: response has no {self.collection!r} list")
        return items


class OffsetPager(Pager):
    """Classic pagination (``offset``/``limit``/``more``), stopping at the 10,000 window PagerDuty serves."""

    def first(self) -> RestRequest:
        return self._page(offset=0, limit=self.page_size)

    def advance(self, body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], RestRequest | None]:
        items = self._items(body)
        offset = int(body.get("offset", 0)) + len(items)
        if not body.get("more") or not items:
            return items, None
        limit = min(self.page_size, MAX_OFFSET_WINDOW - offset)
        if limit <= 0:
            logger.warning(
                "pagination stopped at PagerDuty's 10,000 result window; narrow the query to see the rest",
                extra={"operation": self.operation},
            )
            return items, None
        return items, self._page(offset=offset, limit=limit)


class CursorPager(Pager):
    """Cursor pagination (``cursor``/``next_cursor``), used by the audit records endpoints."""

    def first(self) -> RestRequest:
        return self._page(limit=self.page_size)

    def advance(self, body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], RestRequest | None]:
        next_cursor = body.get("next_cursor")
        return self._items(body), (self._page(limit=self.page_size, cursor=next_cursor) if next_cursor else None)


def incidents_pager(params: Params | None, page_size: int) -> Pager:
    return OffsetPager("list_incidents", "/incidents", "incidents", params, page_size)


def services_pager(params: Params | None, page_size: int) -> Pager:
    return OffsetPager("list_services", "/services", "services", params, page_size, cacheable=True)


def audit_records_pager(params: Params | None, page_size: int) -> Pager:
    return CursorPager("list_audit_records", "/audit/records", "records", params, page_size)


def decode(response: httpx.Response) -> dict[str, Any]:
    """The JSON object PagerDuty answered (an empty object for 204 No Content)."""
    if response.status_code == 204 or not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        raise PagerDutyAPIError(
            "PagerDuty answered something that is not JSON",
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
        ) from None
    if not isinstance(body, dict):
        raise PagerDutyAPIError("PagerDuty answered JSON that is not an object", status=response.status_code)
    return body


def unwrap(body: Mapping[str, Any], request: RestRequest) -> dict[str, Any]:
    """The object the request asked for, out of PagerDuty's envelope (``{"incident": {...}}``)."""
    value = body.get(request.result)
    if not isinstance(value, dict):
        raise PagerDutyAPIError(f"{request.operation}: PagerDuty's answer has no {request.result!r} object")
    return value


def abilities(body: Mapping[str, Any]) -> list[str]:
    return [str(ability) for ability in body.get("abilities") or []]


def cache_namespace(base_url: str, token: str) -> str:
    """Keeps cached answers apart per host and per token (accounts see different services)."""
    return hashlib.sha256(f"{base_url}\n{token}".encode()).hexdigest()[:16]


def cache_key(namespace: str, request: RestRequest) -> str:
    query = "&".join(f"{name}={request.params[name]}" for name in sorted(request.params))
    return f"pagerduty:{namespace}:{request.method} {request.path}?{query}"


def _segment(identifier: str) -> str:
    return quote(identifier, safe="")
