"""Every way a pdutils command can fail ends with one line on stderr saying what to do, and a non-zero exit.

No traceback unless ``--debug``. Most cases run ``main()`` in-process; the ones about signals and pipes run
the CLI as a user does, in a process of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pdutils import cli
from pdutils.errors import INTERRUPTED, CommandError
from pdutils.simulator import SimulatorHandle
from tests.integration.fixture_stack import FIXTURE_TEMPLATE, copy_of_fixture_stack

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_DIR / "template.yaml"
API_EVENT = {"httpMethod": "GET", "path": "/items/42", "pathParameters": {"item_id": "42"}}

pytestmark = pytest.mark.integration


def failure_line(capsys: pytest.CaptureFixture[str], command: str) -> str:
    """The single line a failed command wrote on stderr (and nothing else there)."""
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"pdutils {command}: ")
    return line


@pytest.fixture
def event_file(tmp_path: Path) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(API_EVENT))
    return path


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_sim_on_a_port_in_use(taken_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sim", "--port", str(taken_port)]) == 2
    assert "port is already in use" in failure_line(capsys, "sim")


@pytest.mark.parametrize("command", ["start", "start-api", "sim"])
def test_a_port_out_of_range_is_a_usage_error(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--port", "99999"])

    assert exit_info.value.code == 2
    assert "99999 is not a port number: use 0-65535" in failure_line(capsys, command)


def test_aws_real_without_credentials(
    event_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    arguments = ["invoke", "EchoFunction", "-e", str(event_file), "--template", str(FIXTURE_TEMPLATE)]

    assert cli.main([*arguments, "--aws", "real", "--stack-name", "deployed", "--region", "eu-west-1"]) == 2
    assert "no AWS credentials found for the real AWS account" in failure_line(capsys, "invoke")


def test_an_unreachable_endpoint_url(
    event_file: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    endpoint = f"http://127.0.0.1:{closed_port}"
    arguments = ["invoke", "EchoFunction", "-e", str(event_file), "--template", str(FIXTURE_TEMPLATE)]

    assert cli.main([*arguments, "--endpoint-url", endpoint]) == 1
    assert f"cannot reach the AWS endpoint {endpoint}" in failure_line(capsys, "invoke")


def test_health_that_cannot_start_its_checks_exits_2_not_degraded(
    closed_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    endpoint = f"http://127.0.0.1:{closed_port}"

    assert cli.main(["health", "--template", str(TEMPLATE), "--endpoint-url", endpoint]) == 2
    assert f"cannot reach the AWS endpoint {endpoint}" in failure_line(capsys, "health")


def test_a_template_that_is_not_yaml_is_explained_on_one_line(
    tmp_path: Path, event_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text("Resources:\n  Broken: [unclosed\n")

    assert cli.main(["invoke", "EchoFunction", "-e", str(event_file), "--template", str(template)]) == 2
    assert f"cannot read template {template}: while parsing" in failure_line(capsys, "invoke")


@pytest.mark.parametrize("command", ["invoke", "start-api"])
def test_an_unknown_parameter_override(command: str, event_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arguments = [command, "EchoFunction", "-e", str(event_file)] if command == "invoke" else [command]

    assert cli.main([*arguments, "--template", str(FIXTURE_TEMPLATE), "--parameter-overrides", "Nope=1"]) == 2
    line = failure_line(capsys, command)
    assert "names parameters template.yaml does not declare: Nope" in line
    assert "it declares Greeting, SecretReference" in line


def test_a_malformed_parameter_override(event_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arguments = ["invoke", "EchoFunction", "-e", str(event_file), "--template", str(FIXTURE_TEMPLATE)]

    assert cli.main([*arguments, "--parameter-overrides", "Greeting"]) == 2
    assert "expects KEY=VALUE, got 'Greeting'" in failure_line(capsys, "invoke")


def test_demo_with_a_missing_events_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--template", str(TEMPLATE), "--events-dir", str(tmp_path / "nowhere")]) == 2
    assert f"--events-dir {tmp_path / 'nowhere'} is not a directory" in failure_line(capsys, "demo")


def test_demo_with_a_missing_env_vars_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--template", str(TEMPLATE), "--env-vars", str(tmp_path / "missing.json")]) == 2
    assert f"--env-vars file {tmp_path / 'missing.json'} does not exist" in failure_line(capsys, "demo")


def test_demo_with_a_broken_sample_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for sample in (PROJECT_DIR / "events").glob("*.json"):
        (tmp_path / sample.name).write_bytes(sample.read_bytes())
    (tmp_path / "schedule.json").write_text('{"detail-type": "Scheduled Event",}')

    assert cli.main(["demo", "--template", str(TEMPLATE), "--events-dir", str(tmp_path)]) == 2
    line = failure_line(capsys, "demo")
    assert f"sample event {tmp_path / 'schedule.json'} is not valid JSON" in line
    assert "Illegal trailing comma before end of object at line 1, column 34" in line


@pytest.mark.parametrize(
    ("option", "content", "message"),
    [
        ("-e", None, "event file {path} does not exist"),
        ("-e", "{not json", "event file {path} is not valid JSON: Expecting property name"),
        ("--env-vars", None, "--env-vars file {path} does not exist"),
        ("--env-vars", '{"Parameters": ', "--env-vars file {path} is not valid JSON: Expecting value"),
    ],
)
def test_invoke_names_the_file_it_cannot_use(
    option: str, content: str | None, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "named.json"
    if content is not None:
        path.write_text(content)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(API_EVENT))
    files = {"-e": str(event_file), option: str(path)}
    arguments = ["invoke", "EchoFunction", "--template", str(FIXTURE_TEMPLATE)]

    assert cli.main([*arguments, *(item for pair in files.items() for item in pair)]) == 2
    assert message.format(path=path) in failure_line(capsys, "invoke")


def test_sim_with_a_spec_dir_without_the_openapi_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sim", "--port", "0", "--spec-dir", str(tmp_path)]) == 2
    assert f"--spec-dir {tmp_path} does not hold events-api-v2.openapiv3.json" in failure_line(capsys, "sim")


def test_sim_fault_without_a_simulator(closed_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sim", "fault", "--status", "503", "--url", f"http://127.0.0.1:{closed_port}"]) == 1
    assert f"cannot reach the simulator at http://127.0.0.1:{closed_port}" in failure_line(capsys, "sim")


def test_an_unexpected_error_names_its_type_and_points_at_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(_args: object) -> int:
        raise RuntimeError("the unforeseen")

    monkeypatch.setattr("pdutils.commands.token.run", broken)

    assert cli.main(["token"]) == 1
    assert failure_line(capsys, "token") == (
        "pdutils token: unexpected RuntimeError: the unforeseen (run again with --debug for the traceback)"
    )


@pytest.mark.parametrize("position", ["before", "after"])
def test_debug_lets_the_error_through_with_its_traceback(position: str, tmp_path: Path) -> None:
    arguments = ["invoke", "EchoFunction", "-e", str(tmp_path / "missing.json"), "--template", str(FIXTURE_TEMPLATE)]
    arguments = ["--debug", *arguments] if position == "before" else [*arguments, "--debug"]

    with pytest.raises(CommandError, match="does not exist"):
        cli.main(arguments)


def every_parser(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield from every_parser(subparser)


def test_help_texts_have_no_literal_backticks() -> None:
    helps = {parser.prog: parser.format_help() for parser in every_parser(cli.build_parser())}

    assert {"pdutils", "pdutils start", "pdutils sim fault"} <= set(helps)
    assert [prog for prog, text in helps.items() if "`" in text] == []


def spawn(*arguments: str) -> subprocess.Popen[str]:
    """``pdutils ARGUMENTS`` in a session of its own, so that Ctrl-C can reach all its processes, as in a shell."""
    return subprocess.Popen(  # our own CLI
        [sys.executable, "-m", "pdutils.cli", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def interrupt_after(process: subprocess.Popen[str], line_start: str) -> tuple[int, str]:
    """Ctrl-C once the command printed a line starting with ``line_start``; its exit status and stderr.
    A command still running two minutes later is killed with all it started, so the failure leaves nothing behind."""
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if line.startswith(line_start):
                break
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    return process.returncode, stderr


@pytest.mark.parametrize(
    ("command", "line_start"),
    [("start", "starting the local stack"), ("demo", "== Local stack")],
)
def test_ctrl_c_while_the_stack_starts(command: str, line_start: str, tmp_path: Path) -> None:
    # `start` runs a copy of the fixture stack: a running stack announces itself beside its template, where the
    # invoke tests running at the same time must not find it. The demo needs the application's own template.
    template = copy_of_fixture_stack(tmp_path) if command == "start" else TEMPLATE
    arguments = [command, "--template", str(template)] + (["--port", "0"] if command == "start" else [])
    returncode, stderr = interrupt_after(spawn(*arguments), line_start)

    assert returncode == INTERRUPTED
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == f"pdutils {command}: interrupted (Ctrl-C); everything it started is stopped"


def test_a_closed_pipe_ends_the_command_quietly(pd_sim: SimulatorHandle) -> None:
    process = spawn("sim", "state", "--url", pd_sim.base_url, "--control-token", pd_sim.simulator.config.control_token)
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the command writes, like `| head -0`

    assert process.wait(timeout=60) == 128 + signal.SIGPIPE
    assert process.stderr is not None
    assert process.stderr.read() == ""
