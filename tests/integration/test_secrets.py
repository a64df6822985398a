"""Secrets come from Secrets Manager or SSM SecureString; failures say which reference, never the value."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

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


def test_prepared_providers_use_the_builders_session_and_config(aws: MotoEndpoint) -> None:
    boto3.client("secretsmanager").create_secret(Name="pd/prepared", SecretString="value-1")
    boto3.client("ssm").put_parameter(Name="/pd/prepared", Value="value-2", Type="SecureString")
    session = boto3.session.Session()
    config = Config(read_timeout=2, retries={"mode": "standard", "max_attempts": 2})
    calls: list[str] = []
    session.events.register("before-call", lambda model, **_: calls.append(model.name))

    secrets.prepare(["pd/prepared", "ssm:/pd/prepared"], session=session, config=config)
    secrets.prepare(["pd/other"], session=boto3.session.Session())  # the first preparation stays

    assert calls == []  # preparing creates clients, it reads nothing
    provider = secrets._provider_for("pd/prepared")  # the client is not otherwise visible
    assert provider.client.meta.config.read_timeout == 2  # type: ignore[attr-defined]  # set from the Config
    assert (secrets.get_secret("pd/prepared"), secrets.get_secret("ssm:/pd/prepared")) == ("value-1", "value-2")
    assert calls == ["GetSecretValue", "GetParameter"]


def test_clear_cache_forgets_values_and_providers(aws: MotoEndpoint) -> None:
    client = boto3.client("secretsmanager")
    client.create_secret(Name="pd/rotating", SecretString="before")
    session = boto3.session.Session()
    calls: list[str] = []
    session.events.register("before-call", lambda model, **_: calls.append(model.name))
    secrets.prepare(["pd/rotating"], session=session)
    assert secrets.get_secret("pd/rotating") == "before"
    client.put_secret_value(SecretId="pd/rotating", SecretString="after")

    assert secrets.get_secret("pd/rotating") == "before"  # cached for max_age
    secrets.clear_cache()
    assert secrets.get_secret("pd/rotating") == "after"
    assert calls == ["GetSecretValue"]  # the second read used a provider of its own
