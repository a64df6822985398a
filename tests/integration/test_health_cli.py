"""``pdutils health``: a table of every check and the overall status; exit 0 healthy, 1 degraded, 2 unhealthy."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from pdutils.cli import main
from pdutils.local.provision import provision_stack
from pdutils.local.target import AwsTarget
from pdutils.local.template import SamTemplate
from pdutils.moto_server import MotoEndpoint
from pdutils.simulator import SimulatorHandle
from pdutils.simulator.config import DEV_TOKEN
from pdutils.testing.health import HealthStack

pytestmark = pytest.mark.integration

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
CHECK_NAMES = (
    "pagerduty_rest",
    "pagerduty_events",
    "state_table",
    "pagerduty_circuits",
    "secrets",
    "kms_key",
    "alert_queue",
    "dead_letter_queue",
)


@pytest.fixture
def env_vars_file(health_stack: HealthStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The checker's variables in a SAM-format file, and gone from the process environment."""
    path = tmp_path / "env.json"
    path.write_text(json.dumps({"HealthCheckerFunction": health_stack.environment}))
    for name in health_stack.environment:
        monkeypatch.delenv(name)
    return path


def pdutils_health(env_vars_file: Path, aws: MotoEndpoint, *extra: str) -> int:
    return main(["health", "--no-template", "--endpoint-url", aws.url, "--env-vars", str(env_vars_file), *extra])


def table_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines()[1:]:
        if not line.strip():
            break
        name, status, latency, unit, *_ = line.split()
        rows[name] = [status, f"{latency} {unit}"]
    return rows


def test_healthy_stack_prints_every_check_and_exits_0(
    env_vars_file: Path, aws: MotoEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = pdutils_health(env_vars_file, aws)

    output = capsys.readouterr().out
    rows = table_rows(output)
    assert exit_code == 0
    assert output.splitlines()[0].split() == ["CHECK", "STATUS", "LATENCY", "REASON"]
    assert tuple(rows) == CHECK_NAMES
    assert {status for status, _ in rows.values()} == {"healthy"}
    assert all(latency.endswith(" ms") for _, latency in rows.values())
    assert output.rstrip().splitlines()[-1].startswith("overall: HEALTHY (8 checks, slowest ")


def test_rate_limited_rest_api_is_degraded_and_exits_1(
    env_vars_file: Path, aws: MotoEndpoint, pd_sim: SimulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    pd_sim.faults.inject(status=429, path_prefix="/abilities")

    exit_code = pdutils_health(env_vars_file, aws)

    output = capsys.readouterr().out
    assert exit_code == 1
    assert table_rows(output)["pagerduty_rest"][0] == "degraded"
    assert "overall: DEGRADED" in output
    assert '"_aws"' not in output  # the PagerDuty client's metric documents stay off the terminal


def test_deep_dead_letter_queue_is_unhealthy_and_exits_2(
    env_vars_file: Path, health_stack: HealthStack, aws: MotoEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    health_stack.fill_dead_letter_queue(4)

    exit_code = pdutils_health(env_vars_file, aws, "--json")

    report = json.loads(capsys.readouterr().out)
    assert exit_code == 2
    assert report["status"] == "unhealthy"
    dead_letter = next(check for check in report["checks"] if check["name"] == "dead_letter_queue")
    assert dead_letter["status"] == "unhealthy"
    assert "4 message(s)" in dead_letter["reason"]


def test_the_terminal_run_stores_and_announces_nothing(
    env_vars_file: Path, health_stack: HealthStack, aws: MotoEndpoint
) -> None:
    health_stack.fill_dead_letter_queue(1)

    pdutils_health(env_vars_file, aws)

    assert health_stack.announcements() == []
    assert "Item" not in health_stack.dynamodb.get_item(TableName="pdutils-state", Key={"pk": {"S": "health#latest"}})


def test_a_missing_setting_is_named_and_exits_2(
    aws: MotoEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    monkeypatch.delenv("PAGERDUTY_API_TOKEN_SECRET_ID", raising=False)
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"Parameters": {"PAGERDUTY_API_TOKEN_SECRET_ID": "pd/api-token"}}))

    exit_code = pdutils_health(env_vars, aws)

    assert exit_code == 2
    assert "STATE_TABLE_NAME: Field required" in capsys.readouterr().err


def test_reads_the_health_checker_environment_from_the_template_stack(
    aws: MotoEndpoint, pd_sim: SimulatorHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = SamTemplate.load(TEMPLATE)
    stack = provision_stack(AwsTarget.embedded(aws.url), template, stack_name="health-cli")
    declared = stack.resolver.resolve(dict(template.function("HealthCheckerFunction").environment))
    # The template takes the secrets as parameters (they are created outside the stack): create them here.
    secret_values = {"pagerduty/api-token": DEV_TOKEN, "pagerduty/routing-keys": '{"default": "' + "R" * 32 + '"}'}
    for secret_id in declared["HEALTH_SECRET_IDS"].split(","):
        value = secret_values.get(secret_id, '["webhook-signing-secret"]')
        boto3.client("secretsmanager").create_secret(Name=secret_id, SecretString=value)
    env_vars = tmp_path / "env.json"
    env_vars.write_text(
        json.dumps({"Parameters": {"PAGERDUTY_API_URL": pd_sim.base_url, "PAGERDUTY_EVENTS_URL": pd_sim.base_url}})
    )

    target = ["--endpoint-url", aws.url, "--stack-name", "health-cli"]
    exit_code = main(["health", "--template", str(TEMPLATE), *target, "--env-vars", str(env_vars)])

    output = capsys.readouterr().out
    assert tuple(table_rows(output)) == CHECK_NAMES
    assert exit_code == 0, output
