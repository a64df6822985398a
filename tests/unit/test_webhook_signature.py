"""Signature parsing and verification, against PagerDuty's own test vector when it is available."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pagerduty_utils.exceptions import ConfigurationError, MalformedSignatureError
from pagerduty_utils.webhook_processor.signature import (
    MAX_SIGNATURES,
    is_authentic,
    parse_signature_header,
    secrets_from_document,
    sign,
)

VECTOR_DIR = Path(__file__).resolve().parents[3] / "shared" / "reference" / "pagerduty" / "webhooks-v3"
VECTOR = VECTOR_DIR / "signature-vector-go-pagerduty.json"


@pytest.fixture(scope="module")
def vector() -> dict[str, Any]:
    if not VECTOR.is_file():
        pytest.skip("PagerDuty signature vector is not available")
    document: dict[str, Any] = json.loads(VECTOR.read_text())
    document["body"] = (VECTOR_DIR / document["body_file"]).read_bytes()
    return document


def case(vector: dict[str, Any], name: str) -> str:
    header: str = next(item["header"] for item in vector["cases"] if item["name"].startswith(name))
    return header


def test_vector_valid_signature_verifies(vector: dict[str, Any]) -> None:
    signatures = parse_signature_header(case(vector, "valid"))
    assert is_authentic(vector["body"], signatures, [vector["secret"].encode()])
    assert sign(vector["body"], vector["secret"].encode()) == case(vector, "valid")


def test_vector_mismatch_does_not_verify(vector: dict[str, Any]) -> None:
    assert not is_authentic(
        vector["body"], parse_signature_header(case(vector, "mismatch")), [vector["secret"].encode()]
    )


def test_vector_rotation_header_verifies(vector: dict[str, Any]) -> None:
    signatures = parse_signature_header(case(vector, "rotation"))
    assert len(signatures) == 2
    assert is_authentic(vector["body"], signatures, [b"another-secret", vector["secret"].encode()])


def test_vector_malformed_header_is_refused(vector: dict[str, Any]) -> None:
    with pytest.raises(MalformedSignatureError):
        parse_signature_header(case(vector, "malformed_header"))


def test_vector_tampered_body_does_not_verify(vector: dict[str, Any]) -> None:
    tampered = vector["body"].replace(b'"urgency":"high"', b'"urgency":"low"')
    assert tampered != vector["body"]
    assert not is_authentic(tampered, parse_signature_header(case(vector, "valid")), [vector["secret"].encode()])


def test_upper_case_hex_and_spaces_and_other_versions_are_tolerated() -> None:
    body = b"{}"
    digest = sign(body, b"s").removeprefix("v1=")
    signatures = parse_signature_header(f" v2=whatever , v1={digest.upper()} ")
    assert is_authentic(body, signatures, [b"s"])


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "v1=",
        "v1=xyz",
        "v1:" + "a" * 64,
        "v2=" + "a" * 64,
        ",".join(["v1=" + "a" * 64] * (MAX_SIGNATURES + 1)),
    ],
)
def test_malformed_headers(header: str | None) -> None:
    with pytest.raises(MalformedSignatureError):
        parse_signature_header(header)


@pytest.mark.parametrize("document", [["a", "b"], {"secrets": ["a", "b"]}])
def test_secret_document_shapes(document: object) -> None:
    assert secrets_from_document(document, source="pd/webhooks") == (b"a", b"b")


@pytest.mark.parametrize("document", [[], {}, "a", {"secrets": [""]}, [1], {"secret": ["a"]}])
def test_bad_secret_documents_name_the_secret_not_the_values(document: object) -> None:
    with pytest.raises(ConfigurationError, match="pd/webhooks") as raised:
        secrets_from_document(document, source="pd/webhooks")
    assert "'a'" not in str(raised.value)
