"""Envelope encryption: token format checks and the mapping of KMS failures to domain errors (stubbed KMS)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from mypy_boto3_kms import KMSClient

from pagerduty_utils.encryption import FORMAT_VERSION, EnvelopeEncryptor
from pagerduty_utils.exceptions import ConfigurationError, DependencyError, ValidationError

KEY_ID = "alias/pagerduty-utils"
DATA_KEY = bytes(range(32))


@pytest.fixture
def kms_client() -> KMSClient:
    return boto3.client("kms", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def kms(kms_client: KMSClient) -> Iterator[Stubber]:
    with Stubber(kms_client) as stubber:
        yield stubber
    stubber.assert_no_pending_responses()


@pytest.fixture
def encryptor(kms: Stubber, kms_client: KMSClient) -> EnvelopeEncryptor:
    return EnvelopeEncryptor(KEY_ID, kms_client=kms_client)


def stub_generate_data_key(kms: Stubber, context: dict[str, str]) -> None:
    kms.add_response(
        "generate_data_key",
        {"Plaintext": DATA_KEY, "CiphertextBlob": b"wrapped-key", "KeyId": "arn:aws:kms:us-east-1:1:key/k"},
        {"KeyId": KEY_ID, "KeySpec": "AES_256", "EncryptionContext": context},
    )


def stub_decrypt(kms: Stubber, context: dict[str, str]) -> None:
    kms.add_response(
        "decrypt",
        {"Plaintext": DATA_KEY, "KeyId": "arn:aws:kms:us-east-1:1:key/k"},
        {"CiphertextBlob": b"wrapped-key", "KeyId": KEY_ID, "EncryptionContext": context},
    )


def test_round_trip_binds_the_context_in_kms_and_in_the_cipher(kms: Stubber, encryptor: EnvelopeEncryptor) -> None:
    context = {"purpose": "health-probe"}
    stub_generate_data_key(kms, context)
    token = encryptor.encrypt(b"secret payload", context)
    stub_decrypt(kms, context)

    assert token.startswith(f"{FORMAT_VERSION}.")
    assert len(token.split(".")) == 4
    assert "secret" not in token
    assert encryptor.decrypt(token, context) == b"secret payload"


def test_each_message_gets_a_fresh_nonce(kms: Stubber, encryptor: EnvelopeEncryptor) -> None:
    stub_generate_data_key(kms, {})
    stub_generate_data_key(kms, {})
    assert encryptor.encrypt(b"same") != encryptor.encrypt(b"same")


def test_a_changed_byte_fails_authentication(kms: Stubber, encryptor: EnvelopeEncryptor) -> None:
    stub_generate_data_key(kms, {})
    version, wrapped, nonce, sealed = encryptor.encrypt(b"payload").split(".")
    tampered_sealed = ("A" if sealed[0] != "A" else "B") + sealed[1:]
    stub_decrypt(kms, {})
    with pytest.raises(ValidationError, match="failed authentication"):
        encryptor.decrypt(".".join([version, wrapped, nonce, tampered_sealed]))


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "pdenc9.a.b.c",
        "pdenc1.only.three",
        "pdenc1.@@@.AAAAAAAAAAAAAAAA.AAAA",
        "pdenc1.AAAA.AAAA.AAAA",
    ],
)
def test_malformed_tokens_are_rejected_before_calling_kms(encryptor: EnvelopeEncryptor, token: str) -> None:
    with pytest.raises(ValidationError):
        encryptor.decrypt(token)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDeniedException", ConfigurationError),
        ("DisabledException", ConfigurationError),
        ("NotFoundException", ConfigurationError),
        ("KMSInvalidStateException", ConfigurationError),
        ("ThrottlingException", DependencyError),
        ("KMSInternalException", DependencyError),
        ("KeyUnavailableException", DependencyError),
    ],
)
def test_kms_errors_map_to_configuration_or_dependency_errors(
    kms: Stubber, encryptor: EnvelopeEncryptor, code: str, expected: type[Exception]
) -> None:
    kms.add_client_error("generate_data_key", service_error_code=code, http_status_code=400)
    with pytest.raises(expected, match=code) as raised:
        encryptor.encrypt(b"payload")
    assert raised.type is expected


def test_throttling_is_retryable_and_denial_is_not(kms: Stubber, encryptor: EnvelopeEncryptor) -> None:
    kms.add_client_error("generate_data_key", service_error_code="ThrottlingException", http_status_code=400)
    kms.add_client_error("generate_data_key", service_error_code="AccessDeniedException", http_status_code=400)
    with pytest.raises(DependencyError) as throttled:
        encryptor.encrypt(b"payload")
    with pytest.raises(ConfigurationError) as denied:
        encryptor.encrypt(b"payload")
    assert throttled.value.retryable
    assert not denied.value.retryable


def test_invalid_wrapped_key_is_a_validation_error(kms: Stubber, encryptor: EnvelopeEncryptor) -> None:
    nonce = "A" * 16
    kms.add_client_error("decrypt", service_error_code="InvalidCiphertextException", http_status_code=400)
    with pytest.raises(ValidationError, match="wrapped data key"):
        encryptor.decrypt(f"{FORMAT_VERSION}.AAAA.{nonce}.AAAA")
