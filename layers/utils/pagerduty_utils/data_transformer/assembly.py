"""Building a NormalizedAlert: every text field that may come from a user is cleaned and bounded here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert
from pagerduty_utils.data_transformer.sources.base import as_utc
from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.formatters import clean_details, clean_text
from pagerduty_utils.pagerduty_events import AlertPayload, EventAction, Link, Severity
from pagerduty_utils.validators import safe_url

FIELD_LIMIT = 1024
_KEY_LIMIT = 4096  # dedup keys are hashed by the client above 255 characters; this only bounds memory


def json_object(text: str | None) -> dict[str, Any] | None:
    """``text`` parsed when it is a JSON object, else None (plain text is a legitimate SNS message)."""
    if not text or not text.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def build_alert(
    *,
    source: AlertSource,
    action: EventAction,
    dedup_key: str,
    occurred_at: datetime,
    name: str,
    account: str | None,
    region: str | None,
    resources: Iterable[str],
    summary: str,
    payload_source: str,
    severity: Severity,
    details: Mapping[str, Any],
    tags: Mapping[str, str] | None = None,
    component: str | None = None,
    group: str | None = None,
    class_: str | None = None,
    links: Iterable[tuple[str | None, str | None]] = (),
    client: str | None = None,
    client_url: str | None = None,
    change: bool = False,
    succeeded: bool = False,
) -> NormalizedAlert:
    """Assemble a NormalizedAlert, cleaning every text field that may come from a user on the way."""
    occurred_at = _utc(occurred_at)
    payload = AlertPayload.model_validate(
        {
            "summary": summary or clean_text(name, FIELD_LIMIT, single_line=True) or source.value,
            "source": clean_field(payload_source) or source.value,
            "severity": severity,
            "timestamp": occurred_at,
            "component": clean_field(component),
            "group": clean_field(group),
            "class": clean_field(class_),
            "custom_details": clean_details(compact(dict(details))),
        }
    )
    return NormalizedAlert(
        source=source,
        action=action,
        dedup_key=clean_text(dedup_key, _KEY_LIMIT, single_line=True),
        occurred_at=occurred_at,
        name=clean_text(name, FIELD_LIMIT, single_line=True),
        account=clean_field(account),
        region=clean_field(region),
        resource_tags={
            clean_text(key, 128, single_line=True): clean_text(value, 256, single_line=True)
            for key, value in (tags or {}).items()
        },
        resources=tuple(clean_text(resource, 2048, single_line=True) for resource in list(resources)[:50]),
        payload=payload,
        links=_links(links),
        client=clean_field(client),
        client_url=safe_url(client_url),
        change=change,
        succeeded=succeeded,
    )


def _links(links: Iterable[tuple[str | None, str | None]]) -> tuple[Link, ...]:
    """Links whose URL is a usable http(s) URL (a source may send any string), texts cleaned."""
    checked = ((safe_url(href), text) for href, text in links)
    return tuple(Link(href=url, text=clean_field(text)) for url, text in checked if url)


def clean_field(value: str | None) -> str | None:
    """A user-controlled one-line field, cleaned; None when nothing is left."""
    cleaned = clean_text(value or "", FIELD_LIMIT, single_line=True)
    return cleaned or None


def _utc(value: datetime) -> datetime:
    try:
        return as_utc(value)
    except ValueError:
        raise ValidationError("event time is out of range") from None


def compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without None and empty containers, so custom_details show only what the source said."""
    return {key: value for key, value in values.items() if value is not None and value not in ([], {})}
