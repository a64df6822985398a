from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pagerduty_utils.exceptions import ConfigurationError, SignatureError, ValidationError
from pagerduty_utils.jwt_tokens import (
    REQUIRED_CLAIMS,
    ExpiredTokenError,
    InvalidTokenError,
    SecretSigningKeys,
    TokenAuthority,
    TokenPolicy,
    signing_keys_from,
)
from pdutils.testing.webhook_fakes import StaticSigningKeys

CURRENT_KEY = "current-signing-key-0123456789abcdef"
PREVIOUS_KEY = "previous-signing-key-0123456789abcdef"
RETIRED_KEY = "retired-signing-key-0123456789abcdef"
POLICY = TokenPolicy(issuer="pagerduty-utils", audience="pagerduty-utils/health", max_lifetime_seconds=3600)
# Every authority issues and verifies at this instant unless a test says otherwise: no test depends on the wall
# clock or on how long it takes to run.
NOW = 1_795_752_000


def authority(*keys: str, policy: TokenPolicy = POLICY, clock: float = NOW) -> TokenAuthority:
    return TokenAuthority(StaticSigningKeys(*(keys or (CURRENT_KEY,))), policy, clock=lambda: clock)


def claims(**overrides: Any) -> dict[str, Any]:
    document = {"iss": POLICY.issuer, "aud": POLICY.audience, "sub": "ops@example.com", "iat": NOW, "exp": NOW + 600}
    document.update(overrides)
    return {name: value for name, value in document.items() if value is not None}


def segment(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def refusal(token: str, verifier: TokenAuthority | None = None) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as caught:
        (verifier or authority()).verify(token)
    assert not token or token not in str(caught.value)
    return caught.value


def test_an_issued_token_verifies_with_its_subject_and_lifetime() -> None:
    tokens = authority()
    verified = tokens.verify(tokens.issue("ops@example.com", lifetime_seconds=900))
    assert verified.subject == "ops@example.com"
    assert (verified.expires_at - verified.issued_at).total_seconds() == 900
    assert verified.token_id


def test_issued_tokens_are_hs256_with_every_required_claim() -> None:
    token = authority().issue("ops@example.com", lifetime_seconds=60)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert set(REQUIRED_CLAIMS) <= set(jwt.decode(token, options={"verify_signature": False}))


def test_expired_token_is_refused_as_expired() -> None:
    stale = authority(clock=NOW - 1000).issue("ops@example.com", lifetime_seconds=900)
    error = refusal(stale)
    assert isinstance(error, ExpiredTokenError)
    assert isinstance(error, SignatureError)


def test_a_token_just_past_its_expiry_is_within_the_leeway() -> None:
    just_expired = authority(clock=NOW - 70).issue("ops@example.com", lifetime_seconds=60)
    assert authority().verify(just_expired).subject == "ops@example.com"


def test_token_issued_in_the_future_is_refused() -> None:
    early = authority(clock=NOW + 600).issue("ops@example.com", lifetime_seconds=60)
    assert "not valid yet" in str(refusal(early))


def test_token_not_valid_before_a_future_time_is_refused_until_then() -> None:
    token = jwt.encode(claims(nbf=NOW + 600), CURRENT_KEY, algorithm="HS256")
    assert "not valid yet" in str(refusal(token))
    assert authority(clock=NOW + 600).verify(token).subject == "ops@example.com"


def test_validity_is_judged_by_the_verifiers_clock() -> None:
    token = authority().issue("ops@example.com", lifetime_seconds=60)
    assert authority(clock=NOW + 60).verify(token).subject == "ops@example.com"
    assert isinstance(refusal(token, authority(clock=NOW + 60 + POLICY.leeway_seconds)), ExpiredTokenError)


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        (TokenPolicy(issuer=POLICY.issuer, audience="pagerduty-utils/other"), "audience"),
        (TokenPolicy(issuer="someone-else", audience=POLICY.audience), "issuer"),
    ],
)
def test_token_for_another_audience_or_from_another_issuer_is_refused(policy: TokenPolicy, reason: str) -> None:
    foreign = authority(policy=policy).issue("ops@example.com", lifetime_seconds=60)
    assert reason in str(refusal(foreign))


def test_audience_list_is_refused_even_when_it_contains_ours() -> None:
    token = jwt.encode(claims(aud=[POLICY.audience, "other"]), CURRENT_KEY, algorithm="HS256")
    assert "audience" in str(refusal(token))


def test_tampered_claims_break_the_signature() -> None:
    header, _, signature = authority().issue("ops@example.com", lifetime_seconds=60).split(".")
    tampered = f"{header}.{segment(claims(sub='admin@example.com'))}.{signature}"
    assert "signature" in str(refusal(tampered))


def test_unsigned_token_is_refused() -> None:
    unsigned = jwt.encode(claims(), "", algorithm="none")
    assert "'none' is not allowed" in str(refusal(unsigned))


def test_rs256_token_is_refused_whoever_signed_it() -> None:
    attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signed_by_attacker = jwt.encode(claims(), attacker_key, algorithm="RS256")
    assert "'RS256' is not allowed" in str(refusal(signed_by_attacker))


def test_rs256_header_over_an_hmac_of_our_key_is_refused() -> None:
    """Algorithm confusion: the HMAC is right, but the header claims a public-key algorithm."""
    genuine = jwt.encode(claims(), CURRENT_KEY, algorithm="HS256")
    _, payload, signature = genuine.split(".")
    confused = f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{payload}.{signature}"
    assert "'RS256' is not allowed" in str(refusal(confused))


def test_tokens_signed_with_any_active_key_verify_and_new_ones_use_the_first() -> None:
    rotating = authority(CURRENT_KEY, PREVIOUS_KEY)
    from_previous = authority(PREVIOUS_KEY).issue("ops@example.com", lifetime_seconds=60)
    assert rotating.verify(from_previous).subject == "ops@example.com"
    fresh = rotating.issue("ops@example.com", lifetime_seconds=60)
    assert authority(CURRENT_KEY).verify(fresh).subject == "ops@example.com"
    assert "signature" in str(refusal(fresh, authority(PREVIOUS_KEY)))


def test_token_of_a_retired_key_is_refused() -> None:
    retired = authority(RETIRED_KEY).issue("ops@example.com", lifetime_seconds=60)
    assert "signature" in str(refusal(retired, authority(CURRENT_KEY, PREVIOUS_KEY)))


def test_validly_signed_token_living_longer_than_the_policy_allows_is_refused() -> None:
    long_lived = jwt.encode(claims(exp=NOW + 7200), CURRENT_KEY, algorithm="HS256")
    assert "lifetime exceeds 3600" in str(refusal(long_lived))


@pytest.mark.parametrize("lifetime", [0, -5, 3601])
def test_issuing_outside_the_allowed_lifetime_is_a_validation_error(lifetime: int) -> None:
    with pytest.raises(ValidationError, match="lifetime"):
        authority().issue("ops@example.com", lifetime_seconds=lifetime)


def test_issuing_without_a_subject_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="subject"):
        authority().issue("", lifetime_seconds=60)


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_token_without_a_required_claim_is_refused(claim: str) -> None:
    incomplete = jwt.encode(claims(**{claim: None}), CURRENT_KEY, algorithm="HS256")
    assert f"'{claim}'" in str(refusal(incomplete))


@pytest.mark.parametrize(("claim", "value"), [("iat", str(NOW)), ("exp", f"{NOW + 60}"), ("sub", 42)])
def test_claims_of_the_wrong_type_are_refused(claim: str, value: Any) -> None:
    refusal(jwt.encode(claims(**{claim: value}), CURRENT_KEY, algorithm="HS256"))


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "x" * 5000])
def test_garbage_is_refused(token: str) -> None:
    refusal(token)


@pytest.mark.parametrize(
    "value",
    [[], {}, "a-single-key-that-is-long-enough-0123", [""], ["short"], [CURRENT_KEY, 7]],
)
def test_unusable_key_sets_are_configuration_errors_that_do_not_quote_keys(value: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        signing_keys_from(value, source="health/token-keys")
    assert CURRENT_KEY not in str(caught.value)


@pytest.mark.parametrize(
    "key",
    [
        "a" * 64,
        "ab" * 32,
        "0123456789abcdef" * 2,
        "passwordpassword" * 3,
        "9f86d081884c7d659a2feaa0c55ad015",  # 32 hex digits: 128 bits at most, RFC 7518 asks for 256
    ],
)
def test_predictable_keys_are_refused_without_being_quoted(key: str) -> None:
    with pytest.raises(ConfigurationError, match="too predictable") as caught:
        signing_keys_from([key], source="health/token-keys")
    assert key not in str(caught.value)


@pytest.mark.parametrize(
    "key",
    [
        "BggOS7mGNM6RyvahuGUgTnuMUjVJETvuzfElQvDpU4f5V6SvONy3SyNl+Qbz7/Nc",  # openssl rand -base64 48
        "1150dcae2b7817d48ed28328b51cedce6e24d874f11043c7be26abd7d5cb6a95",  # openssl rand -hex 32
        "t1JNQmuc1NEVqaHpZj7zXuNmwfbqDIGQLWULPf29DU8",  # secrets.token_urlsafe(32)
    ],
)
def test_generated_keys_are_accepted(key: str) -> None:
    assert signing_keys_from([key], source="health/token-keys") == (key.encode(),)


def test_key_set_keeps_its_order() -> None:
    keys = signing_keys_from([CURRENT_KEY, PREVIOUS_KEY], source="health/token-keys")
    assert keys == (CURRENT_KEY.encode(), PREVIOUS_KEY.encode())


def test_secret_keys_name_their_reference_and_nothing_else() -> None:
    assert repr(SecretSigningKeys("health/token-keys")) == "SecretSigningKeys('health/token-keys')"


def test_importing_the_module_leaves_pyjwt_for_the_first_token() -> None:
    probe = "import sys, pagerduty_utils.jwt_tokens; print('jwt' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
