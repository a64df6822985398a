"""Webhook signing and envelope as PagerDuty produces them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pdutils.simulator.webhooks import envelope, sign

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "pagerduty"
VECTOR = REFERENCE / "webhooks-v3" / "signature-vector-go-pagerduty.json"


@pytest.mark.skipif(not VECTOR.is_file(), reason="PagerDuty's signature test vector is not available")
def test_signature_matches_pagerdutys_published_vector() -> None:
    vector = json.loads(VECTOR.read_text())
    body = (Path(VECTOR.parent) / vector["body_file"]).read_bytes()
    [valid] = [case for case in vector["cases"] if case["name"] == "valid"]
    [mismatch] = [case for case in vector["cases"] if case["name"] == "mismatch"]

    assert sign(vector["secret"], body) == valid["header"]
    assert sign(vector["secret"], body) != mismatch["header"]


def test_signature_is_hex_hmac_sha256_with_the_v1_scheme() -> None:
    # RFC 4231 test case 1: HMAC-SHA256(key = 20 bytes of 0x0b, "Hi There").
    expected = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"

    assert sign("\x0b" * 20, b"Hi There") == f"v1={expected}"


def test_envelope_has_the_v3_fields() -> None:
    data = {"id": "Q1", "type": "incident"}

    event = envelope("incident.resolved", data, agent=None, client={"name": "monitor"})["event"]

    assert event["event_type"] == "incident.resolved"
    assert event["resource_type"] == "incident"
    assert event["occurred_at"].endswith("Z")
    assert (event["agent"], event["client"], event["data"]) == (None, {"name": "monitor"}, data)
    assert envelope("incident.resolved", data, agent=None, client=None)["event"]["id"] != event["id"]
