from __future__ import annotations

import json

import pytest
from aws_lambda_powertools import Logger

from pagerduty_utils.audit_logger import AuditLogger


def test_record_is_structured_and_clipped(capsys: pytest.CaptureFixture[str]) -> None:
    audit = AuditLogger(Logger(service="test-audit"))
    audit.record("webhook.signature", "rejected", reason="no match", request_id="r-1", body_preview="x" * 1000)
    line = json.loads(capsys.readouterr().out.strip())
    assert line["audit"] is True
    assert (line["action"], line["outcome"], line["reason"], line["request_id"]) == (
        "webhook.signature",
        "rejected",
        "no match",
        "r-1",
    )
    assert len(line["body_preview"]) == 256
