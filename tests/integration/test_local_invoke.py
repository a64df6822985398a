"""``pdutils invoke`` on the fixture stack: result on stdout, logs on stderr, exit status, env vars, timeouts."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pdutils.local.provision import provision_stack
from pdutils.local.runner import FunctionRunner
from pdutils.local.target import AwsTarget
from pdutils.local.template import FunctionSpec, SamTemplate
from pdutils.moto_server import MotoEndpoint

FIXTURE_TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "local_stack" / "template.yaml"
API_EVENT = {"httpMethod": "GET", "path": "/items/42", "pathParameters": {"item_id": "42"}}

pytestmark = pytest.mark.integration


def pdutils_invoke(*arguments: str, event: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    command = [sys.executable, "-m", "pdutils.cli", "invoke", *arguments, "-e", str(event_file)]
    return subprocess.run(  # our own CLI
        [*command, "--template", str(FIXTURE_TEMPLATE)], capture_output=True, text=True, timeout=60, check=False
    )


def response_body(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.loads(completed.stdout)["body"])
    return body


def test_prints_the_result_on_stdout_and_the_logs_on_stderr(tmp_path: Path) -> None:
    completed = pdutils_invoke("EchoFunction", event=API_EVENT, tmp_path=tmp_path)

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["statusCode"] == 201
    body = response_body(completed)
    assert body["path_parameters"] == {"item_id": "42"}
    assert (body["function_name"], body["memory_mb"]) == ("EchoFunction", 256)
    assert 0 < body["remaining_ms"] <= 5000
    assert body["greeting"] == "hello from us-east-1"  # Globals environment, Fn::If and Fn::Sub resolved
    assert "echo GET /items/42" in completed.stderr
    assert "\tInit Duration: " in completed.stderr  # the REPORT line of a cold start


def test_exits_non_zero_with_the_error_type_and_message_when_the_handler_raises(tmp_path: Path) -> None:
    completed = pdutils_invoke("FailingFunction", event={"name": "Ada"}, tmp_path=tmp_path)

    assert completed.returncode == 1
    assert json.loads(completed.stdout)["errorType"] == "ValueError"
    assert "ValueError: probe failure for Ada" in completed.stderr
    assert "about to fail" in completed.stderr


def test_a_handler_running_past_its_timeout_is_stopped(tmp_path: Path) -> None:
    completed = pdutils_invoke("SlowFunction", event={}, tmp_path=tmp_path)

    assert completed.returncode == 1
    assert "Sandbox.Timedout: Task timed out after 1.00 seconds" in completed.stderr


def test_env_vars_file_in_sam_format_overrides_for_all_then_for_one_function(tmp_path: Path) -> None:
    env_vars = tmp_path / "env.json"
    env_vars.write_text(
        json.dumps({"Parameters": {"GREETING": "for everyone", "QUEUE_ARN": "q"}, "EchoFunction": {"GREETING": "ahoy"}})
    )

    completed = pdutils_invoke("EchoFunction", "--env-vars", str(env_vars), event=API_EVENT, tmp_path=tmp_path)

    body = response_body(completed)
    assert body["greeting"] == "ahoy"
    assert body["environment"]["QUEUE_ARN"] == "q"


def test_parameter_overrides_flow_through_conditions(tmp_path: Path) -> None:
    completed = pdutils_invoke(
        "EchoFunction", "--parameter-overrides", "Greeting=hi", event=API_EVENT, tmp_path=tmp_path
    )

    assert response_body(completed)["greeting"] == "grumpy"


def test_without_a_stack_references_resolve_to_placeholders(tmp_path: Path) -> None:
    completed = pdutils_invoke("EchoFunction", event=API_EVENT, tmp_path=tmp_path)

    assert response_body(completed)["environment"]["QUEUE_ARN"] == "<WorkQueue.Arn>"
    assert "no local stack is running" in completed.stderr


def test_references_resolve_to_the_resources_of_a_running_embedded_stack(aws: MotoEndpoint, tmp_path: Path) -> None:
    stack = provision_stack(AwsTarget.embedded(aws.url), SamTemplate.load(FIXTURE_TEMPLATE))

    completed = pdutils_invoke("EchoFunction", "--endpoint-url", aws.url, event=API_EVENT, tmp_path=tmp_path)

    environment = response_body(completed)["environment"]
    assert environment == {
        "STATE_TABLE_NAME": stack.resources["StateTable"].ref,
        "EVENT_BUS_NAME": stack.resources["ProbeEventBus"].ref,
        "QUEUE_ARN": stack.resources["WorkQueue"].attributes["Arn"],
    }


def test_unknown_function_is_a_usage_error(tmp_path: Path) -> None:
    completed = pdutils_invoke("NoSuchFunction", event={}, tmp_path=tmp_path)

    assert completed.returncode == 2
    assert "NoSuchFunction is not an AWS::Serverless::Function" in completed.stderr


@pytest.fixture
def echo_function() -> FunctionSpec:
    return SamTemplate.load(FIXTURE_TEMPLATE).function("EchoFunction")


def test_a_worker_stays_warm_between_invocations(echo_function: FunctionSpec) -> None:
    counting = dataclasses.replace(echo_function, handler="app.count_invocations")

    with FunctionRunner(counting, {"GREETING": "hi"}) as runner:
        results = [runner.invoke({}).result for _ in range(3)]

    assert results == [1, 2, 3]


def test_each_invocation_is_logged_like_lambda_with_the_init_duration_once(
    echo_function: FunctionSpec, capfd: pytest.CaptureFixture[str]
) -> None:
    with FunctionRunner(echo_function, {"GREETING": "hi"}) as runner:
        request_ids = [runner.invoke(API_EVENT).request_id for _ in range(2)]
    log = capfd.readouterr().err  # the worker has exited: its whole log is written

    reports = [line for line in log.splitlines() if line.startswith("REPORT ")]
    assert [f"START RequestId: {request_id} Version: $LATEST" in log for request_id in request_ids] == [True, True]
    assert [f"END RequestId: {request_id}" in log for request_id in request_ids] == [True, True]
    assert [report.split("\t")[0] for report in reports] == [f"REPORT RequestId: {rid}" for rid in request_ids]
    assert all("\tMemory Size: 256 MB\tMax Memory Used: " in report for report in reports)
    assert ["Init Duration: " in report for report in reports] == [True, False]
    assert "WARNING" not in log


def test_memory_over_the_function_size_is_flagged(
    echo_function: FunctionSpec, capfd: pytest.CaptureFixture[str]
) -> None:
    tiny = dataclasses.replace(echo_function, memory_mb=1)

    with FunctionRunner(tiny, {"GREETING": "hi"}) as runner:
        runner.invoke(API_EVENT)
    log = capfd.readouterr().err

    assert "over the function's 1 MB: Lambda would stop it (out of memory)" in log


def test_a_crashed_worker_is_reported_then_replaced(echo_function: FunctionSpec) -> None:
    crashing = dataclasses.replace(echo_function, handler="app.exit_abruptly")

    with FunctionRunner(crashing, {"GREETING": "hi"}) as runner:
        first, second = runner.invoke({}), runner.invoke({})

    for invocation in (first, second):
        assert invocation.error is not None
        assert invocation.error["errorType"] == "Runtime.ExitError"
        assert "code 3" in invocation.error["errorMessage"]


def test_real_aws_means_the_users_own_aws_configuration(aws: MotoEndpoint, tmp_path: Path) -> None:
    """With --aws real, the stack is read with the user's configuration: here, AWS_ENDPOINT_URL set by the user."""
    stack = provision_stack(AwsTarget.embedded(aws.url), SamTemplate.load(FIXTURE_TEMPLATE), stack_name="deployed")

    completed = pdutils_invoke(
        "EchoFunction", "--aws", "real", "--stack-name", "deployed", event=API_EVENT, tmp_path=tmp_path
    )

    assert response_body(completed)["environment"]["STATE_TABLE_NAME"] == stack.resources["StateTable"].ref


def test_an_env_vars_file_not_in_sams_format_is_a_usage_error(tmp_path: Path) -> None:
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"GREETING": "not inside a section"}))

    completed = pdutils_invoke("EchoFunction", "--env-vars", str(env_vars), event=API_EVENT, tmp_path=tmp_path)

    assert completed.returncode == 2
    assert "expected" in completed.stderr
