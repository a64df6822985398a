"""Every sample event in events/ through ``pdutils invoke``, against a local stack of the project's template."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pdutils.commands.demo import SAMPLE_EVENTS
from pdutils.local.local_stack import LocalStack, LocalStackConfig, running_local_stack

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_DIR / "template.yaml"
EVENTS_DIR = PROJECT_DIR / "events"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not TEMPLATE.exists(), reason="no template.yaml"),
]


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # moto keeps its state per process: other tests' embedded AWS shares it, hence a stack name of our own.
    config = LocalStackConfig(TEMPLATE, stack_name="e2e-events", write_record=False)
    logs = (tmp_path_factory.mktemp("logs") / "functions.log").open("w")
    with logs, running_local_stack(dataclasses.replace(config, function_logs=logs)) as stack:
        yield stack


@pytest.fixture(scope="module")
def env_vars(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """env.local.json plus the PagerDuty URLs of this stack's simulator, in SAM's format."""
    document = json.loads((PROJECT_DIR / "env.local.json").read_text())
    document.setdefault("Parameters", {}).update(
        {"PAGERDUTY_EVENTS_URL": local_stack.simulator.base_url, "PAGERDUTY_API_URL": local_stack.simulator.base_url}
    )
    path = tmp_path_factory.mktemp("env") / "env.json"
    path.write_text(json.dumps(document))
    return path


def pdutils_invoke(function_id: str, event_file: Path, stack: LocalStack, env_vars: Path) -> Any:
    command = [sys.executable, "-m", "pdutils.cli", "invoke", function_id, "-e", str(event_file)]
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
    completed = subprocess.run(  # our own CLI
        [*command, *options], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads(completed.stdout)


def test_every_event_file_is_covered() -> None:
    assert sorted(path.name for path in EVENTS_DIR.glob("*.json")) == sorted(SAMPLE_EVENTS)


@pytest.mark.parametrize(("event_file", "function_id"), SAMPLE_EVENTS.items())
def test_event_file_runs_through_its_function(
    event_file: str, function_id: str, local_stack: LocalStack, env_vars: Path
) -> None:
    if event_file == "apigateway_health.json":  # GET /health serves the latest report: make sure there is one
        (health_schedule,) = local_stack.schedules_of("HealthCheckerFunction")
        assert not health_schedule.fire_now().failed

    result = pdutils_invoke(function_id, EVENTS_DIR / event_file, local_stack, env_vars)

    if event_file.startswith("apigateway_"):
        assert 200 <= result["statusCode"] < 300, result
    if event_file.startswith("sqs_"):
        assert result == {"batchItemFailures": []}
