"""Every sample event in events/ through its function on a local stack of the project's template, and each
function once through ``pdutils invoke`` as a user runs it.

The sample events go to the stack's warm functions; ``pdutils invoke`` (argument parsing, connecting to the
stack, a fresh function worker) is the same for every event of a function, so it runs once per function, in
this process: a new interpreter per event would only add its startup.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pdutils.cli import main
from pdutils.commands.demo import LOCAL_ENV_VARS_FILE, SAMPLE_EVENTS
from pdutils.local.environment import load_env_vars_file
from pdutils.local.local_stack import LocalStack, LocalStackConfig, running_local_stack

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_DIR / "template.yaml"
EVENTS_DIR = PROJECT_DIR / "events"
# The local environment the README's commands use (the sample webhook is older than the default replay window).
LOCAL_ENV_VARS = PROJECT_DIR / LOCAL_ENV_VARS_FILE
# One sample event per function (its first in SAMPLE_EVENTS) for the pdutils invoke test.
FIRST_EVENT_OF = {function_id: event_file for event_file, function_id in reversed(SAMPLE_EVENTS.items())}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not TEMPLATE.exists(), reason="no template.yaml"),
]


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # moto keeps its state per process: other tests' embedded AWS shares it, hence a stack name of our own.
    config = LocalStackConfig(
        TEMPLATE, stack_name="e2e-events", env_vars=load_env_vars_file(LOCAL_ENV_VARS), write_record=False
    )
    logs = (tmp_path_factory.mktemp("logs") / "functions.log").open("w")
    with logs, running_local_stack(dataclasses.replace(config, function_logs=logs)) as stack:
        yield stack


@pytest.fixture(scope="module")
def env_vars(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """env.local.json plus the PagerDuty URLs of this stack's simulator, in SAM's format."""
    document = json.loads(LOCAL_ENV_VARS.read_text())
    document.setdefault("Parameters", {}).update(
        {"PAGERDUTY_EVENTS_URL": local_stack.simulator.base_url, "PAGERDUTY_API_URL": local_stack.simulator.base_url}
    )
    path = tmp_path_factory.mktemp("env") / "env.json"
    path.write_text(json.dumps(document))
    return path


def pdutils_invoke(
    function_id: str, event_file: Path, stack: LocalStack, env_vars: Path, output: pytest.CaptureFixture[str]
) -> Any:
    """``pdutils invoke`` with ``output`` capturing the file descriptors: the function's worker logs to stderr."""
    command = ["invoke", function_id, "-e", str(event_file)]
    options = [
        "--template",
        str(TEMPLATE),
        "--endpoint-url",
        str(stack.target.endpoint_url),
        "--env-vars",
        str(env_vars),
        "--stack-name",
        stack.stack.name,
    ]
    output.readouterr()
    exit_code = main([*command, *options])
    printed = output.readouterr()
    assert exit_code == 0, printed.out + printed.err
    return json.loads(printed.out)


def assert_succeeded(event_file: str, result: Any) -> None:
    if event_file.startswith("apigateway_"):
        assert 200 <= result["statusCode"] < 300, result
    if event_file.startswith("sqs_"):
        assert result == {"batchItemFailures": []}


def test_every_event_file_is_covered() -> None:
    assert sorted(path.name for path in EVENTS_DIR.glob("*.json")) == sorted(SAMPLE_EVENTS)


@pytest.mark.parametrize(("event_file", "function_id"), SAMPLE_EVENTS.items())
def test_event_file_runs_through_its_function(event_file: str, function_id: str, local_stack: LocalStack) -> None:
    if event_file == "apigateway_health.json":  # GET /health serves the latest report: make sure there is one
        (health_schedule,) = local_stack.schedules_of("HealthCheckerFunction")
        assert not health_schedule.fire_now().failed

    invocation = local_stack.runners[function_id].invoke(json.loads((EVENTS_DIR / event_file).read_text()))

    assert invocation.error is None, invocation.error
    assert_succeeded(event_file, invocation.result)


@pytest.mark.parametrize(("function_id", "event_file"), sorted(FIRST_EVENT_OF.items()))
def test_pdutils_invoke_runs_the_function_against_the_stack(
    function_id: str, event_file: str, local_stack: LocalStack, env_vars: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    result = pdutils_invoke(function_id, EVENTS_DIR / event_file, local_stack, env_vars, capfd)

    assert_succeeded(event_file, result)
