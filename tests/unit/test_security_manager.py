"""SecurityManager with a local 256-bit key: types kept, context bound, tampered and foreign tokens refused."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from pagerduty_utils.config_parser.settings_file import reset_config
from pagerduty_utils.encryption import LOCAL_FORMAT_VERSION, SecurityManager
from pagerduty_utils.exceptions import ConfigurationError, ValidationError

KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(range(1, 33))).decode()


@pytest.fixture(autouse=True)
def fresh_configuration() -> Iterator[None]:
    reset_config()
    yield
    reset_config()


@pytest.mark.parametrize("value", ["u+xyz-api-key", b"\x00\xffraw bytes", {"token": "abc", "nested": [1, 2.5, None]}])
def test_a_value_comes_back_with_its_type(value: str | bytes | dict[str, object]) -> None:
    security = SecurityManager(KEY)
    token = security.encrypt_sensitive_data(value)
    assert token.startswith(LOCAL_FORMAT_VERSION + ".")
    assert token.isascii()
    assert token.isprintable()
    assert security.decrypt_sensitive_data(token) == value
    assert type(security.decrypt_sensitive_data(token)) is type(value)


def test_the_plaintext_does_not_appear_in_the_token_and_tokens_differ() -> None:
    security = SecurityManager(KEY)
    first, second = (security.encrypt_sensitive_data("u+xyz-api-key") for _ in range(2))
    assert "xyz" not in first
    assert first != second


def test_the_key_comes_from_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", KEY)
    token = SecurityManager().encrypt_sensitive_data("secret")
    assert SecurityManager(KEY).decrypt_sensitive_data(token) == "secret"


def test_without_a_key_the_error_says_where_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("PAGERDUTY_UTILS_CONFIG", raising=False)
    with pytest.raises(ConfigurationError, match=r"security\.encryption_key .* ENCRYPTION_KEY"):
        SecurityManager()


@pytest.mark.parametrize("key", ["not a key", base64.b64encode(b"16 bytes only!!!").decode()])
def test_a_key_that_is_neither_kms_nor_256_bits_is_refused(key: str) -> None:
    with pytest.raises(ConfigurationError, match="neither a KMS key"):
        SecurityManager(key)


def test_the_encryption_context_is_bound_to_the_token() -> None:
    security = SecurityManager(KEY, context={"service": "checkout"})
    token = security.encrypt_sensitive_data("secret", {"incident": "Q1"})
    assert security.decrypt_sensitive_data(token, {"incident": "Q1"}) == "secret"
    with pytest.raises(ValidationError, match="another context"):
        security.decrypt_sensitive_data(token, {"incident": "Q2"})
    with pytest.raises(ValidationError, match="another context"):
        SecurityManager(KEY).decrypt_sensitive_data(token, {"incident": "Q1"})


def test_a_tampered_token_is_refused() -> None:
    security = SecurityManager(KEY)
    token = security.encrypt_sensitive_data("secret")
    head, sealed = token.rsplit(".", 1)
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(ValidationError, match="failed authentication"):
        security.decrypt_sensitive_data(f"{head}.{flipped}")


def test_a_token_of_another_key_is_refused_as_such() -> None:
    token = SecurityManager(OTHER_KEY).encrypt_sensitive_data("secret")
    with pytest.raises(ValidationError, match="another key"):
        SecurityManager(KEY).decrypt_sensitive_data(token)


@pytest.mark.parametrize("token", ["", "plain text", "pdloc1.x.y", "pdloc1.!!.??.**", "pdenc1.AAAA.AAAA.AAAA"])
def test_foreign_and_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(ValidationError):
        SecurityManager(KEY).decrypt_sensitive_data(token)


def test_values_that_cannot_be_sealed_are_refused() -> None:
    security = SecurityManager(KEY)
    with pytest.raises(ValidationError, match="JSON-serialisable"):
        security.encrypt_sensitive_data({"when": object()})
    with pytest.raises(ValidationError, match="JSON-serialisable"):
        security.encrypt_sensitive_data({"ratio": float("nan")})
    with pytest.raises(ValidationError, match="str, bytes or a dict"):
        security.encrypt_sensitive_data(42)  # type: ignore[arg-type]
