"""How the demo reads a function's answer to a sample event: a 2xx that processed nothing is not a success."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pdutils.local.demo_probes import _describe


def proxy_result(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "body": json.dumps(body) if not isinstance(body, str) else body}


@pytest.mark.parametrize(
    ("result", "described"),
    [
        (proxy_result(200, {"status": "processed", "event_id": "E1"}), "HTTP 200, processed"),
        (proxy_result(200, {"status": "duplicate"}), "HTTP 200, duplicate"),
        (proxy_result(200, "plain text"), "HTTP 200"),
        (proxy_result(200, {"status": "ignored", "reason": "stale"}), None),
        (proxy_result(503, {"status": "unhealthy"}), None),
        ({"batchItemFailures": []}, "no batch item failures"),
        ({"batchItemFailures": [{"itemIdentifier": "m1"}]}, None),
        (None, "done"),
    ],
)
def test_what_a_result_says(result: Any, described: str | None) -> None:
    assert _describe(result) == described
