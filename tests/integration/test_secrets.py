"""Secrets come from Secrets Manager or SSM SecureString; failures say which reference, never the value."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from pagerduty_utils import secrets
from pagerduty_utils.exceptions import ConfigurationError
from pdutils.moto_server import MotoEndpoint

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    secrets.clear_cache()
    yield
    secrets.clear_cache()


def test_reads_secrets_manager_and_ssm(aws: MotoEndpoint) -> None:
    boto3.client("secretsmanager").create_secret(Name="pd/keys", SecretString='{"ops": "k1"}')
    boto3.client("ssm").put_parameter(Name="/pd/token", Value="tok", Type="SecureString")
    assert secrets.get_secret_json("pd/keys") == {"ops": "k1"}
    assert secrets.get_secret("ssm:/pd/token") == "tok"


def test_missing_secret_is_a_configuration_error(aws: MotoEndpoint) -> None:
    with pytest.raises(ConfigurationError, match=r"'pd/missing'.*ResourceNotFoundException"):
        secrets.get_secret("pd/missing")


def test_non_json_secret_is_reported_without_its_value(aws: MotoEndpoint) -> None:
    boto3.client("secretsmanager").create_secret(Name="pd/plain", SecretString="hunter2-value")
    with pytest.raises(ConfigurationError) as raised:
        secrets.get_secret_json("pd/plain")
    assert "hunter2" not in str(raised.value)
