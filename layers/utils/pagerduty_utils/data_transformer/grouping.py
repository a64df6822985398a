"""A routing rule's ``group_by``: fold related alerts into one by chosen fields instead of their own identity.

The generic path keys every message by its own id, so unrelated messages never fold together. When messages of
one kind are about the same thing (a Glue job named in ``detail.jobName``, a subject line), a rule names those
fields and they become the dedup key: repeats update one alert, and a message whose words report success
(``NormalizedAlert.succeeded``) resolves it.

A field is ``name``, ``account`` or ``region`` of the alert, or a dotted path into its custom_details
(``detail.jobName``, ``subject``, ``message.service``); a missing field groups as empty.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pagerduty_utils.data_transformer.model import NormalizedAlert
from pagerduty_utils.pagerduty_events import EventAction

ALERT_FIELDS = ("name", "account", "region")


def grouped(alert: NormalizedAlert, fields: Sequence[str]) -> NormalizedAlert:
    """``alert`` keyed by the values of ``fields``; resolving when its words report success."""
    values = "/".join(f"{field}={_text(_field_value(alert, field))}" for field in fields)
    action = EventAction.RESOLVE if alert.succeeded else alert.action
    return alert.model_copy(update={"dedup_key": f"group/{alert.source.value}/{alert.name}/{values}", "action": action})


def _field_value(alert: NormalizedAlert, field: str) -> Any:
    if field in ALERT_FIELDS:
        return getattr(alert, field)
    value: Any = alert.payload.custom_details or {}
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
