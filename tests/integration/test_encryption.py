"""Envelope encryption against KMS in the embedded AWS (moto server over HTTP)."""

from __future__ import annotations

import base64

import boto3
import pytest

from pagerduty_utils import secrets
from pagerduty_utils.encryption import FORMAT_VERSION, EnvelopeEncryptor, SecurityManager
from pagerduty_utils.exceptions import ConfigurationError, ValidationError
from pdutils.moto_server import MotoEndpoint

pytestmark = pytest.mark.integration

LOCAL_KEY = base64.b64encode(bytes(range(32))).decode()


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


# --- SecurityManager ---------------------------------------------------------------------------------------------


def test_security_manager_uses_the_kms_envelope_for_a_kms_key(key_id: str) -> None:
    security = SecurityManager(key_id, context={"service": "checkout"})
    token = security.encrypt_sensitive_data({"api_key": "u+xyz"})
    assert security.uses_kms
    assert token.startswith(FORMAT_VERSION + ".")
    assert security.decrypt_sensitive_data(token) == {"api_key": "u+xyz"}
    with pytest.raises(ValidationError):
        SecurityManager(key_id, context={"service": "billing"}).decrypt_sensitive_data(token)


def test_security_manager_refuses_a_local_token_under_kms(key_id: str) -> None:
    local_token = SecurityManager(LOCAL_KEY).encrypt_sensitive_data("secret")
    with pytest.raises(ValidationError, match="not a pdenc1 encrypted value"):
        SecurityManager(key_id).decrypt_sensitive_data(local_token)


@pytest.mark.parametrize("reference", ["ssm:/pagerduty-utils/encryption-key", "secretsmanager:pagerduty-utils/key"])
def test_security_manager_reads_a_local_key_from_a_secret_reference(aws: MotoEndpoint, reference: str) -> None:
    secrets.clear_cache()
    if reference.startswith("ssm:"):
        boto3.client("ssm").put_parameter(Name=reference.removeprefix("ssm:"), Value=LOCAL_KEY, Type="SecureString")
    else:
        boto3.client("secretsmanager").create_secret(Name=reference.split(":", 1)[1], SecretString=LOCAL_KEY)
    token = SecurityManager(reference).encrypt_sensitive_data("secret")
    assert SecurityManager(LOCAL_KEY).decrypt_sensitive_data(token) == "secret"
    secrets.clear_cache()
