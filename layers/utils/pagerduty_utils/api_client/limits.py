"""PagerDuty's Events API limits, enforced right before sending so every path to PagerDuty gets them.

PagerDuty rejects (400) or silently truncates what breaks its limits; here an event is made to fit where that
keeps its meaning (summary truncated with an ellipsis, over-long dedup keys hashed, non-https images dropped,
oversized custom_details replaced by a notice) and refused before any request where it cannot
(acknowledge/resolve without a dedup_key, trigger without a payload, severity outside the enum).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from pagerduty_utils.api_client.errors import InvalidEventError
from pagerduty_utils.observability import logger
from pagerduty_utils.pagerduty_events import AlertEvent, ChangeEvent, EventAction, Severity

MAX_SUMMARY_CHARACTERS = 1024
MAX_DEDUP_KEY_CHARACTERS = 255
MAX_EVENT_BYTES = 512 * 1024
ELLIPSIS = "…"
_HASHED_KEY_PREFIX_CHARACTERS = MAX_DEDUP_KEY_CHARACTERS - 64 - 1
_SEVERITIES = frozenset(severity.value for severity in Severity)


@dataclass(frozen=True)
class FittedEvent:
    """An event within PagerDuty's limits: its JSON body, and the exact bytes to send."""

    body: dict[str, Any]
    content: bytes


def fit_dedup_key(dedup_key: str) -> str:
    """The key itself when it fits, else a readable prefix plus the SHA-256 of the whole key (stable)."""
    if len(dedup_key) <= MAX_DEDUP_KEY_CHARACTERS:
        return dedup_key
    digest = hashlib.sha256(dedup_key.encode()).hexdigest()
    return f"{dedup_key[:_HASHED_KEY_PREFIX_CHARACTERS]}~{digest}"


def fit_summary(summary: str) -> str:
    if len(summary) <= MAX_SUMMARY_CHARACTERS:
        return summary
    return summary[: MAX_SUMMARY_CHARACTERS - len(ELLIPSIS)] + ELLIPSIS


def fit_alert(event: AlertEvent) -> FittedEvent:
    """The body for ``/v2/enqueue``, within PagerDuty's limits, or ``InvalidEventError``.

    A trigger without a dedup_key gets a generated one, so that a retry after a lost response cannot open a
    second alert; PagerDuty echoes it back and the caller needs it to resolve the alert later. Acknowledge and
    resolve carry only what PagerDuty reads for them: routing key, action and dedup key.
    """
    if event.event_action is not EventAction.TRIGGER:
        if not event.dedup_key:
            raise InvalidEventError(f"{event.event_action.value} needs the dedup_key of the alert it closes")
        closing: dict[str, Any] = {
            "routing_key": event.routing_key,
            "event_action": event.event_action.value,
            "dedup_key": fit_dedup_key(event.dedup_key),
        }
        return FittedEvent(closing, _encoded(closing))
    if event.payload is None:
        raise InvalidEventError("a trigger event needs a payload")
    body = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    payload = body["payload"]
    if payload.get("severity") not in _SEVERITIES:
        raise InvalidEventError(f"severity must be one of {sorted(_SEVERITIES)}")
    payload["summary"] = fit_summary(payload["summary"])
    body["dedup_key"] = fit_dedup_key(event.dedup_key or uuid.uuid4().hex)
    _keep_https_images(body)
    _drop_empty_lists(body)
    return _fit_size(body, payload)


def fit_change(event: ChangeEvent) -> FittedEvent:
    """The body for ``/v2/change/enqueue``, within PagerDuty's limits."""
    fields = event.model_dump(mode="json", exclude_none=True)
    payload: dict[str, Any] = {
        name: fields.pop(name) for name in ("summary", "source", "timestamp", "custom_details") if name in fields
    }
    payload["summary"] = fit_summary(payload["summary"])
    body = {**fields, "payload": payload}
    _drop_empty_lists(body)
    return _fit_size(body, payload)


def _encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _keep_https_images(body: dict[str, Any]) -> None:
    images = body.get("images") or []
    kept = [image for image in images if str(image.get("src", "")).startswith("https://")]
    if len(kept) != len(images):
        logger.warning(
            "images dropped from event: PagerDuty only displays https images",
            extra={"dropped_images": len(images) - len(kept)},
        )
        body["images"] = kept


def _drop_empty_lists(body: dict[str, Any]) -> None:
    for name in ("links", "images"):
        if name in body and not body[name]:
            del body[name]


def _fit_size(body: dict[str, Any], payload: dict[str, Any] | None) -> FittedEvent:
    content = _encoded(body)
    if len(content) <= MAX_EVENT_BYTES:
        return FittedEvent(body, content)
    size = len(content)
    if payload is not None and "custom_details" in payload:
        payload["custom_details"] = {
            "notice": f"custom_details removed: the event was {size} bytes, over PagerDuty's {MAX_EVENT_BYTES} limit"
        }
        logger.warning("custom_details replaced: event over the size limit", extra={"event_bytes": size})
        content = _encoded(body)
        if len(content) <= MAX_EVENT_BYTES:
            return FittedEvent(body, content)
        size = len(content)
    raise InvalidEventError(f"event is {size} bytes even without custom_details, over {MAX_EVENT_BYTES}")
