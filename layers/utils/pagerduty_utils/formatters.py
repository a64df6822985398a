"""Shared formatting: AWS console URLs, PagerDuty summaries, and clean-up of user-controlled text.

Alarm descriptions, finding titles and custom event fields are written by people and pass through to PagerDuty,
chat and e-mail. Before they leave this library they lose control and invisible formatting characters (which
can hide or reorder text: bidi overrides, zero-width characters) and lone surrogates (which cannot be encoded),
and they are bounded in length. Escaping for a particular channel (Slack mrkdwn, HTML) is the renderer's job.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pagerduty_utils import validators
from pagerduty_utils.validators import ELLIPSIS, clip

SUMMARY_LIMIT = 1024  # PagerDuty's limit on payload.summary
DETAIL_STRING_LIMIT = 2048
DETAIL_ITEMS_LIMIT = 50
DETAIL_DEPTH_LIMIT = 8
DETAILS_SIZE_LIMIT = 64 * 1024  # custom_details budget, well inside PagerDuty's 512 KB per event

# What validators.clean_text leaves and outgoing JSON cannot carry or should not show: zero-width characters, the
# byte-order mark, and lone surrogates (which make UTF-8 encoding of the request body fail).
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\ud800-\udfff]")
_WHITESPACE_RUN = re.compile(r"\s+")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
_SEPARATOR = " — "


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis when it was cut."""
    return text[:limit] if limit <= len(ELLIPSIS) else clip(text, limit)


def truncate_escaped(text: str, limit: int, escape: Callable[[str], str]) -> str:
    """``escape(text)`` bounded to ``limit`` characters without cutting an escape sequence in half.

    Escaping makes text longer, so this finds (by bisection) the longest raw prefix whose escaped form fits.
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    shortest, longest = 0, min(len(text), limit)
    while shortest < longest:
        middle = (shortest + longest + 1) // 2
        if len(escape(truncate(text, middle))) <= limit:
            shortest = middle
        else:
            longest = middle - 1
    return escape(truncate(text, shortest))


def clean_text(value: str, limit: int, *, single_line: bool = False) -> str:
    """``validators.clean_text`` (control characters, bidi overrides), minus invisible characters and surrogates;
    whitespace runs collapsed when ``single_line``."""
    text = validators.clean_text(_INVISIBLE.sub("", value), max_length=limit, multiline=not single_line)
    return _WHITESPACE_RUN.sub(" ", text) if single_line else text


def first_line(text: str | None) -> str:
    """The first non-empty line of ``text``: multi-line descriptions often carry a runbook after a short title."""
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def compose_summary(*parts: str | None, limit: int = SUMMARY_LIMIT) -> str:
    """Join the non-empty ``parts`` on one line, cleaned and bounded to ``limit`` (PagerDuty's summary limit)."""
    cleaned = (clean_text(part, limit, single_line=True) for part in parts if part)
    return truncate(_SEPARATOR.join(part for part in cleaned if part), limit)


def clean_details(value: Any) -> Any:
    """A JSON-safe copy of ``value`` for ``custom_details``: strings cleaned, nesting and sizes bounded.

    Non-finite floats (which json.loads accepts but JSON forbids) become strings. If the result is still larger
    than ``DETAILS_SIZE_LIMIT`` when serialized, strings are cut shorter until it fits.
    """
    string_limit = DETAIL_STRING_LIMIT
    while True:
        cleaned = _clean_value(value, string_limit, DETAIL_DEPTH_LIMIT)
        if string_limit <= 64 or len(json.dumps(cleaned, ensure_ascii=False)) <= DETAILS_SIZE_LIMIT:
            return cleaned
        string_limit //= 2


def _clean_value(value: Any, string_limit: int, depth: int) -> Any:
    if isinstance(value, Mapping | list | tuple):
        if depth <= 0:
            return ELLIPSIS
        if isinstance(value, Mapping):
            return _clean_mapping(value, string_limit, depth)
        return _clean_sequence(value, string_limit, depth)
    if value is None or isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return clean_text(str(value), string_limit)  # strings, and non-finite floats that JSON cannot carry


def _clean_sequence(value: list[Any] | tuple[Any, ...], string_limit: int, depth: int) -> list[Any]:
    kept = [_clean_value(item, string_limit, depth - 1) for item in value[:DETAIL_ITEMS_LIMIT]]
    if len(value) > DETAIL_ITEMS_LIMIT:
        kept.append(f"{ELLIPSIS} {len(value) - DETAIL_ITEMS_LIMIT} more")
    return kept


def _clean_mapping(value: Mapping[Any, Any], string_limit: int, depth: int) -> dict[str, Any]:
    items = list(value.items())
    cleaned = {
        clean_text(str(key), 128, single_line=True): _clean_value(item, string_limit, depth - 1)
        for key, item in items[:DETAIL_ITEMS_LIMIT]
    }
    if len(items) > DETAIL_ITEMS_LIMIT:
        cleaned[ELLIPSIS] = f"{len(items) - DETAIL_ITEMS_LIMIT} more"
    return cleaned


def is_region(region: str | None) -> bool:
    return region is not None and _REGION.fullmatch(region) is not None


def aws_partition(region: str) -> str:
    """The ARN partition of ``region``: ``aws-cn`` for China, ``aws-us-gov`` for GovCloud, else ``aws``."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


_CONSOLE_HOSTS = {
    "aws": "https://{region}.console.aws.amazon.com",
    "aws-cn": "https://{region}.console.amazonaws.cn",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
}


def console_base_url(region: str) -> str | None:
    """The AWS console host serving ``region`` (commercial, China or GovCloud), or None for an invalid region."""
    if not is_region(region):
        return None
    return _CONSOLE_HOSTS[aws_partition(region)].format(region=region)


def cloudwatch_alarm_url(region: str, alarm_name: str) -> str | None:
    base = console_base_url(region)
    if base is None:
        return None
    return f"{base}/cloudwatch/home?region={region}#alarmsV2:alarm/{quote(alarm_name, safe='')}"


def guardduty_finding_url(region: str, finding_id: str) -> str | None:
    base = console_base_url(region)
    if base is None:
        return None
    return f"{base}/guardduty/home?region={region}#/findings?macros=current&fId={quote(finding_id, safe='')}"


def securityhub_finding_url(region: str, finding_id: str) -> str | None:
    """The Security Hub findings page filtered to one finding id (the console's filter syntax: value encoded twice)."""
    base = console_base_url(region)
    if base is None:
        return None
    finding_filter = "Id%3D" + quote(quote(f"\\operator\\:EQUALS\\:{finding_id}", safe=""), safe="")
    return f"{base}/securityhub/home?region={region}#/findings?search={finding_filter}"


def health_event_url(region: str, event_arn: str) -> str | None:
    """The event's page in the AWS Health Dashboard (commercial partition) or the regional console elsewhere."""
    event_id = quote(event_arn, safe="")
    if event_arn.startswith("arn:aws:"):
        return f"https://health.aws.amazon.com/health/home#/account/event-log?eventID={event_id}&eventTab=details"
    base = console_base_url(region)
    if base is None:
        return None
    return f"{base}/health/home?region={region}#/account/event-log?eventID={event_id}&eventTab=details"


def console_url(region: str, path: str) -> str | None:
    """``path`` (e.g. ``states/home?region=...#/executions/details/<arn>``) on the console serving ``region``."""
    base = console_base_url(region)
    return None if base is None else f"{base}/{path}"
