"""Events API v2 event models: what the forwarder builds and the API client sends.

The models describe what a caller *means*; PagerDuty's limits (summary length, dedup_key length, total size)
are enforced by ``api_client`` right before sending, in one place, so every path to PagerDuty gets them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventAction(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class Severity(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Link(BaseModel):
    model_config = ConfigDict(frozen=True)

    href: str
    text: str | None = None


class Image(BaseModel):
    model_config = ConfigDict(frozen=True)

    src: str
    href: str | None = None
    alt: str | None = None


class AlertPayload(BaseModel):
    """The ``payload`` of a trigger event."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    summary: str
    source: str
    severity: Severity
    timestamp: datetime | None = None
    component: str | None = None
    group: str | None = None
    class_: str | None = Field(default=None, alias="class")
    custom_details: dict[str, Any] | None = None


class AlertEvent(BaseModel):
    """One Events API v2 alert event (trigger, acknowledge or resolve).

    ``routing_key`` is the integration key itself, resolved from a secret by the caller. ``occurred_at`` is
    when the source says the change happened; it orders events for the same dedup key and is not sent.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    routing_key: str = Field(repr=False)
    event_action: EventAction
    dedup_key: str | None = None
    payload: AlertPayload | None = None
    client: str | None = None
    client_url: str | None = None
    links: tuple[Link, ...] = ()
    images: tuple[Image, ...] = ()
    occurred_at: datetime | None = Field(default=None, exclude=True)


class ChangeEvent(BaseModel):
    """One Events API v2 change event (``/v2/change/enqueue``)."""

    # defer_build: only deployments become change events, so an alert's cold start never builds this validator.
    model_config = ConfigDict(frozen=True, defer_build=True)

    routing_key: str = Field(repr=False)
    summary: str
    source: str | None = None
    timestamp: datetime | None = None
    custom_details: dict[str, Any] | None = None
    links: tuple[Link, ...] = ()
