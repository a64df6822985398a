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


CANARY = "CANARYc4n4ry0123456789abcdefSECRET"


def test_canary_secrets_never_reach_the_record(capsys: pytest.CaptureFixture[str]) -> None:
    audit = AuditLogger(Logger(service="test-audit-canary"))
    jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvbmNhbGwifQ." + CANARY
    audit.record(
        "webhook.signature",
        "rejected",
        reason=f"Authorization: Token token={CANARY} was refused; retried with Bearer {CANARY}",
        request_id="r-1",
        api_token=CANARY,
        Authorization=f"Token token={CANARY}",
        **{"X-PagerDuty-Signature": f"v1={'ab' * 32}{CANARY}"},
        routing_key=CANARY,
        headers={"authorization": CANARY, "nested": {"client_secret": CANARY, "note": f"password={CANARY}"}},
        attempts=[{"signature": CANARY}, f"api_key: {CANARY}", jwt_like],
        detail=f'{{"token": "{CANARY}"}}',
        aws=f"AKIA{CANARY[:16].upper()}",
    )
    output = capsys.readouterr().out
    assert CANARY not in output
    assert CANARY.upper()[:16] not in output
    line = json.loads(output.strip())
    assert line["api_token"] == line["routing_key"] == line["Authorization"] == "[REDACTED]"
    assert line["reason"] == "Authorization: [REDACTED]; retried with Bearer [REDACTED]"
    assert line["headers"] == {
        "authorization": "[REDACTED]",
        "nested": {"client_secret": "[REDACTED]", "note": "password=[REDACTED]"},
    }
    assert line["request_id"] == "r-1"


def test_names_that_only_refer_to_a_secret_and_ordinary_text_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    audit = AuditLogger(Logger(service="test-audit-kept"))
    audit.record(
        "health.token",
        "accepted",
        reason="no valid signature for this delivery",
        subject="oncall@example.com",
        token_id="jti-42",
        secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:pd",
        dedup_key="checkout/latency",
    )
    line = json.loads(capsys.readouterr().out.strip())
    assert (line["token_id"], line["dedup_key"], line["reason"]) == (
        "jti-42",
        "checkout/latency",
        "no valid signature for this delivery",
    )
    assert line["secret_arn"].startswith("arn:aws:secretsmanager:")
