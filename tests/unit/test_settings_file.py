"""The utils configuration file: the README's YAML as written, interpolation, precedence and precise errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pagerduty_utils.config_parser.settings_file import (
    CONFIG_PATH_VARIABLE,
    ConfiguredSigningKeys,
    SecurityOptions,
    UtilsConfig,
    configure,
    load_utils_config,
    reset_config,
    resolve_secret,
    token_authority,
    utils_config,
)
from pagerduty_utils.exceptions import ConfigurationError
from pagerduty_utils.jwt_tokens import TokenPolicy

README_CONFIGURATION = """\
pagerduty:
  api_timeout: 30
  retry_attempts: 3
  circuit_breaker:
    failure_threshold: 5
    recovery_timeout: 60
cache:
  redis_url: "redis://localhost:6379"
  default_ttl: 300
security:
  encryption_key: "${ENCRYPTION_KEY}"
  jwt_secret: "${JWT_SECRET}"
"""
ENCRYPTION_KEY = "q2Vk5Yb0Xh3mT9pL1sR8uW4zC6nA7eJ2fG0dK5iH3oM="
JWT_SECRET = "Zr8Qm2Lx7Vb4Tn1Kc9Hd3Wf6Yp0Gs5Ja8Ue2Oi7Rl4Nq"
README_ENVIRONMENT = {"ENCRYPTION_KEY": ENCRYPTION_KEY, "JWT_SECRET": JWT_SECRET}


@pytest.fixture(autouse=True)
def fresh_configuration() -> Iterator[None]:
    reset_config()
    yield
    reset_config()


@pytest.fixture
def readme_file(tmp_path: Path) -> Path:
    path = tmp_path / "utils.yaml"
    path.write_text(README_CONFIGURATION)
    return path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_the_readme_configuration_loads_as_written(readme_file: Path) -> None:
    config = load_utils_config(readme_file, environ=README_ENVIRONMENT)

    assert config.pagerduty.api_timeout == 30
    assert config.pagerduty.retry_attempts == 3
    assert (config.pagerduty.circuit_breaker.failure_threshold, config.pagerduty.circuit_breaker.recovery_timeout) == (
        5,
        60,
    )
    assert (config.cache.redis_url, config.cache.default_ttl) == ("redis://localhost:6379", 300)
    assert (config.security.encryption_key, config.security.jwt_secret) == (ENCRYPTION_KEY, JWT_SECRET)


def test_without_a_file_the_defaults_apply() -> None:
    assert load_utils_config(environ={}) == UtilsConfig()
    assert UtilsConfig().pagerduty.retry_attempts == 3
    assert UtilsConfig().cache.redis_url is None


def test_the_path_may_come_from_the_environment(readme_file: Path) -> None:
    config = load_utils_config(environ={CONFIG_PATH_VARIABLE: str(readme_file), **README_ENVIRONMENT})
    assert config.pagerduty.api_timeout == 30


def test_the_environment_wins_over_the_file_which_wins_over_the_defaults(readme_file: Path) -> None:
    environ = {**README_ENVIRONMENT, "PAGERDUTY_RETRY_ATTEMPTS": "5", "CIRCUIT_FAILURE_THRESHOLD": "2"}
    config = load_utils_config(readme_file, environ=environ)

    assert config.pagerduty.retry_attempts == 5  # environment
    assert config.pagerduty.circuit_breaker.failure_threshold == 2  # environment
    assert config.pagerduty.api_timeout == 30  # file
    assert config.state_table is None  # default


def test_interpolation_defaults_apply_when_the_variable_is_unset(tmp_path: Path) -> None:
    path = write(tmp_path, 'cache:\n  redis_url: "${REDIS_URL:-redis://cache.internal:6379/2}"\n')
    assert load_utils_config(path, environ={}).cache.redis_url == "redis://cache.internal:6379/2"


def test_an_unset_variable_is_named_with_its_place(readme_file: Path) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_utils_config(readme_file, environ={"ENCRYPTION_KEY": ENCRYPTION_KEY})
    assert str(raised.value) == (
        f"configuration file {str(readme_file)!r}: security.jwt_secret: environment variable JWT_SECRET is not set"
    )


def test_an_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "pagerduty:\n  circuit_breaker:\n    failure_treshold: 5\n")
    with pytest.raises(ConfigurationError, match=r"pagerduty\.circuit_breaker\.failure_treshold: Extra inputs"):
        load_utils_config(path, environ={})


def test_a_wrong_type_is_named_with_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "pagerduty:\n  retry_attempts: several\n")
    with pytest.raises(ConfigurationError, match=r"pagerduty\.retry_attempts: Input should be a valid integer"):
        load_utils_config(path, environ={})


def test_a_bad_override_names_its_variable(readme_file: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"pagerduty\.api_timeout \(from PAGERDUTY_READ_TIMEOUT_SECONDS\)"):
        load_utils_config(readme_file, environ={**README_ENVIRONMENT, "PAGERDUTY_READ_TIMEOUT_SECONDS": "-1"})


def test_a_redis_url_must_be_a_redis_url_or_a_reference(tmp_path: Path) -> None:
    path = write(tmp_path, 'cache:\n  redis_url: "http://localhost:6379"\n')
    with pytest.raises(ConfigurationError, match=r"cache\.redis_url: must be a redis://"):
        load_utils_config(path, environ={})
    assert load_utils_config(environ={"CACHE_REDIS_URL": "ssm:/cache/url"}).cache.redis_url == "ssm:/cache/url"


def test_error_messages_never_contain_the_values(tmp_path: Path) -> None:
    path = write(tmp_path, "security:\n  encryption_key: [not-a-string-but-secret]\n")
    with pytest.raises(ConfigurationError) as raised:
        load_utils_config(path, environ={})
    assert "security.encryption_key" in str(raised.value)
    assert "not-a-string-but-secret" not in str(raised.value)


def test_a_missing_file_and_a_document_that_is_not_a_mapping_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read it"):
        load_utils_config(tmp_path / "absent.yaml", environ={})
    with pytest.raises(ConfigurationError, match="must be a mapping"):
        load_utils_config(write(tmp_path, "- pagerduty\n"), environ={})
    with pytest.raises(ConfigurationError, match="invalid YAML"):
        load_utils_config(write(tmp_path, "pagerduty: [\n"), environ={})


def test_configure_pins_the_process_configuration(readme_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", ENCRYPTION_KEY)
    monkeypatch.setenv("JWT_SECRET", JWT_SECRET)
    configured = configure(readme_file)
    monkeypatch.setenv("PAGERDUTY_RETRY_ATTEMPTS", "7")
    assert utils_config() is configured
    reset_config()
    monkeypatch.setenv(CONFIG_PATH_VARIABLE, str(readme_file))
    assert utils_config().pagerduty.retry_attempts == 7
    assert utils_config().pagerduty.api_timeout == configured.pagerduty.api_timeout


def test_plain_values_are_not_secret_references() -> None:
    assert resolve_secret(ENCRYPTION_KEY) == ENCRYPTION_KEY


def test_the_jwt_secret_signs_and_verifies_tokens() -> None:
    policy = TokenPolicy(issuer="pagerduty-utils", audience="operators")
    authority = token_authority(policy, UtilsConfig(security=SecurityOptions(jwt_secret=JWT_SECRET)))
    assert authority.verify(authority.issue("sre@example.com", lifetime_seconds=60)).subject == "sre@example.com"


def test_a_list_of_jwt_keys_is_accepted_and_a_short_key_refused() -> None:
    listed = ConfiguredSigningKeys(SecurityOptions(jwt_secret=f'["{JWT_SECRET}", "{JWT_SECRET}-previous"]'))
    assert listed.active() == (JWT_SECRET.encode(), f"{JWT_SECRET}-previous".encode())
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        ConfiguredSigningKeys(SecurityOptions(jwt_secret="short")).active()
    with pytest.raises(ConfigurationError, match="not configured"):
        ConfiguredSigningKeys(SecurityOptions()).active()
