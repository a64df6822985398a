"""Envelope encryption against KMS in the embedded AWS (moto server over HTTP)."""

from __future__ import annotations

import boto3
import pytest

from pagerduty_utils.encryption import EnvelopeEncryptor
from pagerduty_utils.exceptions import ConfigurationError, ValidationError
from pdutils.moto_server import MotoEndpoint

pytestmark = pytest.mark.integration


@pytest.fixture
def key_id(aws: MotoEndpoint) -> str:
    return boto3.client("kms").create_key(Description="pagerduty-utils test key")["KeyMetadata"]["KeyId"]


def test_round_trip_through_kms(key_id: str) -> None:
    encryptor = EnvelopeEncryptor(key_id)
    payload = b"routing key material " * 1000
    token = encryptor.encrypt(payload, {"table": "state", "pk": "alert#1"})
    assert encryptor.decrypt(token, {"pk": "alert#1", "table": "state"}) == payload


def test_alias_works_like_the_key_id(key_id: str) -> None:
    boto3.client("kms").create_alias(AliasName="alias/pd-utils", TargetKeyId=key_id)
    token = EnvelopeEncryptor("alias/pd-utils").encrypt(b"value")
    assert EnvelopeEncryptor(key_id).decrypt(token) == b"value"


def test_another_context_cannot_decrypt(key_id: str) -> None:
    encryptor = EnvelopeEncryptor(key_id)
    token = encryptor.encrypt(b"value", {"pk": "alert#1"})
    with pytest.raises(ValidationError):
        encryptor.decrypt(token, {"pk": "alert#2"})


def test_unknown_key_is_a_configuration_error(aws: MotoEndpoint) -> None:
    with pytest.raises(ConfigurationError, match="NotFoundException"):
        EnvelopeEncryptor("alias/does-not-exist").encrypt(b"value")


def test_a_key_from_another_region_is_not_found(key_id: str) -> None:
    token = EnvelopeEncryptor(key_id).encrypt(b"value")
    other_region = EnvelopeEncryptor(key_id, kms_client=boto3.client("kms", region_name="eu-west-1"))
    with pytest.raises(ConfigurationError, match="NotFoundException"):
        other_region.decrypt(token)


def test_a_token_wrapped_by_another_key_is_refused(key_id: str) -> None:
    token = EnvelopeEncryptor(key_id).encrypt(b"value")
    other_key = boto3.client("kms").create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ConfigurationError, match=r"Decrypt: (AccessDeniedException|IncorrectKeyException)"):
        EnvelopeEncryptor(other_key).decrypt(token)
