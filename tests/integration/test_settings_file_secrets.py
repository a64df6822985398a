"""Secret values of the utils configuration given as references, read from the embedded AWS when first used."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from pagerduty_utils import secrets
from pagerduty_utils.config_parser.settings_file import (
    SecurityOptions,
    UtilsConfig,
    load_utils_config,
    resolve_secret,
    token_authority,
)
from pagerduty_utils.exceptions import ConfigurationError
from pagerduty_utils.jwt_tokens import TokenPolicy
from pdutils.moto_server import MotoEndpoint

pytestmark = pytest.mark.integration

JWT_SECRET = "Zr8Qm2Lx7Vb4Tn1Kc9Hd3Wf6Yp0Gs5Ja8Ue2Oi7Rl4Nq"
POLICY = TokenPolicy(issuer="pagerduty-utils", audience="operators")


@pytest.fixture(autouse=True)
def fresh_secrets(aws: MotoEndpoint) -> Iterator[None]:
    secrets.clear_cache()
    yield
    secrets.clear_cache()


def test_a_secrets_manager_name_and_an_arn_both_resolve() -> None:
    arn = boto3.client("secretsmanager").create_secret(Name="pd/jwt", SecretString=JWT_SECRET)["ARN"]
    for reference in ("secretsmanager:pd/jwt", arn):
        authority = token_authority(POLICY, UtilsConfig(security=SecurityOptions(jwt_secret=reference)))
        token = authority.issue("sre@example.com", lifetime_seconds=60)
        verifier = token_authority(POLICY, UtilsConfig(security=SecurityOptions(jwt_secret=JWT_SECRET)))
        assert verifier.verify(token).subject == "sre@example.com"


def test_a_reference_from_the_environment_is_read_when_used() -> None:
    boto3.client("ssm").put_parameter(Name="/pd/jwt", Value=JWT_SECRET, Type="SecureString")
    config = load_utils_config(environ={"JWT_SECRET": "ssm:/pd/jwt"})
    assert config.security.jwt_secret == "ssm:/pd/jwt"  # loading reads no secret
    assert resolve_secret(config.security.jwt_secret) == JWT_SECRET


def test_a_missing_secret_is_a_configuration_error_naming_the_reference() -> None:
    with pytest.raises(ConfigurationError, match="'pd/absent' cannot be read: ResourceNotFoundException"):
        resolve_secret("secretsmanager:pd/absent")
