"""Every usage example and the configuration block of the utils README, run as written against the local stack.

The utils README (its module paths read ``utils.``; here the package is ``pagerduty_utils``) shows three usage
examples and one configuration file. This program brings up the local stack (the embedded AWS, the PagerDuty
simulator and, when a redis-server is installed, Redis), writes the configuration block to a file exactly as
printed, points ``PAGERDUTY_UTILS_CONFIG`` at it, runs each example with only the package name changed, and
prints what each returned. Only what the README leaves to its reader is filled in: the simulator's account has
a service whose id is ``SERVICE_ID``, ``api_key`` is the REST API token, ``${ENCRYPTION_KEY}`` is a KMS key of
the embedded AWS and ``${JWT_SECRET}`` a generated secret, and ``CACHE_REDIS_URL`` (the environment wins over
the file) points the cache at the local Redis instead of localhost:6379.

Run: ``python examples/seed_readme.py``; ``pytest tests/integration/test_examples.py -k seed_readme`` runs it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import boto3

from pagerduty_utils.api_client import PagerDutyUnavailableError, RestClientSettings
from pagerduty_utils.cache_manager import CacheManager, RedisCacheStore
from pagerduty_utils.circuit_breaker import CircuitOpenError
from pagerduty_utils.config_parser.settings_file import token_authority, utils_config
from pagerduty_utils.encryption import SecurityManager
from pagerduty_utils.jwt_tokens import TokenPolicy
from pagerduty_utils.settings import load_settings
from pdutils.moto_server import MotoEndpoint, running_moto_server
from pdutils.redis_server import redis_server_binary, running_redis_server
from pdutils.simulator import DEV_TOKEN, running_simulator
from pdutils.simulator.state import Service

# The README's configuration block, as printed.
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
API_TOKEN_SECRET = "seed-readme/pagerduty-api-token"  # a secret's name, not a value  # noqa: S105  # nosec B105
FROM_EMAIL = "oncall@example.com"

Results = list[tuple[str, Any]]


def stack_environment(aws_url: str, simulator_url: str, redis_url: str | None, config_dir: Path) -> dict[str, str]:
    """Seed the local stack for the README and return the environment its examples run in."""
    aws = MotoEndpoint(aws_url).environment
    session = boto3.session.Session(
        region_name=aws["AWS_DEFAULT_REGION"],
        aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
    )
    session.client("secretsmanager", endpoint_url=aws_url).create_secret(Name=API_TOKEN_SECRET, SecretString=DEV_TOKEN)
    key_id = session.client("kms", endpoint_url=aws_url).create_key(Description="seed README")["KeyMetadata"]["KeyId"]
    config_file = config_dir / "pagerduty-utils.yaml"
    config_file.write_text(README_CONFIGURATION)
    return {
        **aws,
        "PAGERDUTY_API_URL": simulator_url,
        "PAGERDUTY_API_TOKEN_SECRET_ID": API_TOKEN_SECRET,
        "PAGERDUTY_FROM_EMAIL": FROM_EMAIL,
        "PAGERDUTY_UTILS_CONFIG": str(config_file),
        "ENCRYPTION_KEY": key_id,
        "JWT_SECRET": secrets.token_urlsafe(32),
        **({"CACHE_REDIS_URL": redis_url} if redis_url else {}),
    }


# --- the README's examples, with only the package name changed ----------------------------------------------


async def api_client_usage() -> dict[str, Any]:
    from pagerduty_utils.api_client import PagerDutyAPIClient  # noqa: PLC0415  # as the README writes it

    client = PagerDutyAPIClient()
    incident = await client.create_incident(
        {"title": "Critical Database Error", "service_id": "SERVICE_ID", "urgency": "high"}
    )
    return incident  # noqa: RET504  # the README's lines, then what they produced


def encryption_usage(api_key: str) -> tuple[str, Any]:
    from pagerduty_utils.encryption import SecurityManager  # noqa: PLC0415  # as the README writes it

    security = SecurityManager()
    encrypted_data = security.encrypt_sensitive_data(api_key)
    decrypted_data = security.decrypt_sensitive_data(encrypted_data)
    return encrypted_data, decrypted_data


async def circuit_breaker_usage() -> Any:
    from pagerduty_utils.circuit_breaker import CircuitBreaker  # noqa: PLC0415  # as the README writes it

    @CircuitBreaker(failure_threshold=5, timeout=60)
    async def external_api_call() -> None:
        # Your API call here
        pass

    return await external_api_call()


# --- what the README's words promise, shown with the same objects ---------------------------------------------


async def circuit_breaker_opening() -> list[str]:
    """The decorator as the README writes it, around a call that keeps failing: five failures, then refusals."""
    from pagerduty_utils.circuit_breaker import CircuitBreaker  # noqa: PLC0415

    @CircuitBreaker(failure_threshold=5, timeout=60)
    async def pagerduty_down() -> None:
        raise PagerDutyUnavailableError("PagerDuty answered 503", status=503)

    outcomes = []
    for _ in range(6):
        try:
            await pagerduty_down()
        except PagerDutyUnavailableError:
            outcomes.append("failed")
        except CircuitOpenError as refused:
            outcomes.append(f"refused, retry in {refused.retry_after:.0f} s")
    return outcomes


def configuration_effects() -> dict[str, Any]:
    """What the configuration file changed: client timeout and attempts, the cache, the JWT secret."""
    from pagerduty_utils.api_client import PagerDutyAPIClient  # noqa: PLC0415

    config = utils_config()
    client = PagerDutyAPIClient()
    cache = CacheManager.from_config()
    cache.put("services/SERVICE_ID", {"id": "SERVICE_ID"})
    authority = token_authority(TokenPolicy(issuer="seed-readme", audience="operators"))
    token = authority.issue("sre@example.com", lifetime_seconds=300)
    return {
        "pagerduty.api_timeout -> client read timeout": client.timeouts.read,
        "pagerduty.retry_attempts -> client attempts": client.retry.max_attempts,
        "pagerduty.circuit_breaker": config.pagerduty.circuit_breaker.model_dump(),
        "cache backend": "redis" if isinstance(cache.store, RedisCacheStore) else type(cache.store).__name__,
        "cache.default_ttl": cache.ttl_seconds,
        "cached read back from a new container": CacheManager.from_config().get("services/SERVICE_ID"),
        "security.encryption_key -> KMS envelope": SecurityManager().uses_kms,
        "security.jwt_secret -> verified subject": authority.verify(token).subject,
    }


def run_readme() -> Results:
    """Run every example in the current environment; print and return (label, result) pairs."""
    api_key = load_settings(RestClientSettings).api_token()
    incident = asyncio.run(api_client_usage())
    encrypted, decrypted = encryption_usage(api_key)
    results: Results = [
        ("api_client: create_incident", {key: incident[key] for key in ("id", "title", "urgency", "status")}),
        ("api_client: incident service", incident["service"]["id"]),
        ("encryption: encrypted_data", encrypted[:24] + "..."),
        ("encryption: decrypted_data == api_key", decrypted == api_key),
        ("circuit_breaker: external_api_call()", asyncio.run(circuit_breaker_usage())),
        ("circuit_breaker: a failing call six times", asyncio.run(circuit_breaker_opening())),
        ("configuration", configuration_effects()),
    ]
    for label, result in results:
        print(f"{label}: {json.dumps(result, default=str)}")
    return results


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the embedded AWS's request log
    with ExitStack() as stack:
        aws = stack.enter_context(running_moto_server())
        simulator = stack.enter_context(running_simulator())
        simulator.state.add_service(Service("SERVICE_ID", "Checkout database"))
        redis_url = stack.enter_context(running_redis_server()).url if redis_server_binary() else None
        config_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        stack.enter_context(environment(stack_environment(aws.url, simulator.base_url, redis_url, config_dir)))
        run_readme()


if __name__ == "__main__":
    main()
