"""Encrypt sensitive incident details with KMS envelope encryption before you store or forward them.

Shows ``EnvelopeEncryptor``: one ``GenerateDataKey`` call per message (KMS never sees the content), AES-256-GCM
on the content, and an encryption context that binds the token to the incident it belongs to, so a token copied
onto another incident's record does not decrypt (``ValidationError``). The token is printable and safe to keep
in JSON, a DynamoDB string or a message attribute.

Environment: KMS_KEY_ID (key id, ARN or ``alias/...``; the function needs kms:GenerateDataKey and kms:Decrypt).
Event: events/responder_contact.json; the handler answers the incident id and the sealed details.
Run: ``pytest tests/integration/test_examples.py -k envelope_encryption`` seals and opens it with a KMS key on
the embedded AWS.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parser import BaseModel, parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from pagerduty_utils.encryption import EnvelopeEncryptor


class ResponderContact(BaseModel):
    incident_id: str
    details: dict[str, str]


@cache
def encryptor() -> EnvelopeEncryptor:
    return EnvelopeEncryptor(os.environ["KMS_KEY_ID"])


def seal(incident_id: str, details: dict[str, str]) -> str:
    return encryptor().encrypt(json.dumps(details).encode(), {"incident_id": incident_id})


def unseal(incident_id: str, token: str) -> dict[str, str]:
    details: dict[str, str] = json.loads(encryptor().decrypt(token, {"incident_id": incident_id}))
    return details


def lambda_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, str]:
    contact = parse(event=event, model=ResponderContact)
    return {"incident_id": contact.incident_id, "sealed_details": seal(contact.incident_id, contact.details)}
