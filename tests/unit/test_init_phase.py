"""In Lambda the handlers build their dependencies during Init; elsewhere, and after a failed build, on first use."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pagerduty_utils.exceptions import ConfigurationError
from pagerduty_utils.init_phase import IN_LAMBDA_VARIABLE, build_during_init, pause_collection
from pdutils.testing.lambda_environments import HANDLER_ENVIRONMENTS, HandlerEnvironment

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    """A build in Lambda freezes this process's objects and a pause stops the collector: undo both afterwards."""
    yield
    gc.unfreeze()
    gc.enable()


def test_outside_lambda_nothing_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IN_LAMBDA_VARIABLE, raising=False)
    builds: list[str] = []

    assert build_during_init(lambda: builds.append("built")) is False
    assert builds == []


def test_in_lambda_the_builder_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IN_LAMBDA_VARIABLE, "alert-forwarder")
    builds: list[str] = []

    assert build_during_init(lambda: builds.append("built")) is True
    assert builds == ["built"]


def test_in_lambda_the_builder_runs_uncollected_and_what_it_built_is_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IN_LAMBDA_VARIABLE, "alert-forwarder")
    built: list[object] = []

    def build() -> None:
        built.append({"collector running": gc.isenabled()})

    assert build_during_init(build) is True
    assert built == [{"collector running": False}]
    assert gc.isenabled()
    assert not any(item is built[0] for item in gc.get_objects())  # in the permanent generation


def test_pausing_collection_is_for_lambda_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IN_LAMBDA_VARIABLE, raising=False)
    pause_collection()
    assert gc.isenabled()

    monkeypatch.setenv(IN_LAMBDA_VARIABLE, "alert-forwarder")
    pause_collection()
    assert not gc.isenabled()


def test_a_failed_build_is_logged_and_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(IN_LAMBDA_VARIABLE, "alert-forwarder")

    def failing_build() -> None:
        raise ConfigurationError("invalid configuration for ForwarderSettings: STATE_TABLE_NAME: Field required")

    assert build_during_init(failing_build) is False
    assert gc.isenabled()
    [record] = caplog.records
    assert record.levelname == "ERROR"
    assert "setup failed during init" in record.getMessage()
    assert record.exc_info is not None
    assert "STATE_TABLE_NAME: Field required" in str(record.exc_info[1])


def _run_beside_handler(handler: HandlerEnvironment, variables: dict[str, str], program: str) -> list[str]:
    """The lines ``program`` prints in a fresh interpreter that can import the handler as ``app``."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "POWERTOOLS_"))}
    path = os.pathsep.join(
        [str(REPOSITORY / "functions" / handler.name), str(REPOSITORY / "layers" / "utils"), *sys.path[1:]]
    )
    completed = subprocess.run(
        [sys.executable, "-c", program],
        env={**inherited, **variables, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout.strip().splitlines()


def _beside_the_forwarder_in_lambda(program: str) -> list[str]:
    """The lines ``program`` prints beside the forwarder's handler, in Lambda's environment (so after its Init)."""
    forwarder = next(handler for handler in HANDLER_ENVIRONMENTS if handler.name == "alert_forwarder")
    return _run_beside_handler(forwarder, forwarder.variables(in_lambda=True), program)


def _import_handler(handler: HandlerEnvironment, variables: dict[str, str]) -> tuple[int, str]:
    """Import the handler in a fresh interpreter; how many dependencies its builder holds, and what it logged."""
    *logged, built = _run_beside_handler(
        handler, variables, f"import app; print(app.{handler.builder}.cache_info().currsize)"
    )
    return int(built), "\n".join(logged)


COUNT_ASYNC_CLIENTS = """
import httpx
created = []
class CountedAsyncClient(httpx.AsyncClient):
    def __init__(self, *args, **kwargs):
        created.append(self)
        super().__init__(*args, **kwargs)
httpx.AsyncClient = CountedAsyncClient
import app
print(len(created))
from pagerduty_utils.api_client import AsyncEventsClient
from pagerduty_utils.settings import ForwarderSettings, load_settings
AsyncEventsClient.from_settings(load_settings(ForwarderSettings)).prepare()
print(len(created))
"""


def test_in_lambda_the_forwarder_creates_the_http_client_of_its_first_send_during_init() -> None:
    during_init, after_first_send_setup = _beside_the_forwarder_in_lambda(COUNT_ASYNC_CLIENTS)

    assert (during_init, after_first_send_setup) == ("1", "1")


FIRST_SEND_MODULES = """
import sys, threading, http.server
import app
from pagerduty_utils.api_client import AsyncEventsClient
from pagerduty_utils.api_client.transport import run_async
from pagerduty_utils.pagerduty_events import AlertEvent, EventAction
from pagerduty_utils.settings import ForwarderSettings, load_settings
class Accepted(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"status": "success", "message": "Event processed", "dedup_key": "first"}'
        self.send_response(202)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Accepted)
threading.Thread(target=server.serve_forever, daemon=True).start()
timeouts = AsyncEventsClient.from_settings(load_settings(ForwarderSettings)).timeouts
client = AsyncEventsClient(f"http://127.0.0.1:{server.server_port}", timeouts=timeouts)
loaded = set(sys.modules)
run_async(client.send(AlertEvent(routing_key="r" * 32, event_action=EventAction.RESOLVE, dedup_key="first")))
print("first send imported:", *sorted(name for name in set(sys.modules) - loaded if name.startswith(("anyio", "http"))))
"""


def test_in_lambda_the_forwarder_loads_the_async_stack_of_its_first_send_during_init() -> None:
    lines = _beside_the_forwarder_in_lambda(FIRST_SEND_MODULES)

    assert lines[-1] == "first send imported:"


BUILT_VALIDATORS = """
import app, pydantic
def subclasses(model):
    for subclass in model.__subclasses__():
        yield subclass
        yield from subclasses(subclass)
built = [model for model in subclasses(pydantic.BaseModel) if model.__pydantic_complete__]
names = {f"{model.__module__}.{model.__qualname__}" for model in built}
print(" ".join(sorted(name for name in names if name.startswith("pagerduty_utils."))))
"""
# What the forwarder's Init validates (its settings, its routing rules) and what every alert is built into. Any other
# model of the layer builds its validator with the first event that needs it: a validator costs its Init.
FORWARDER_INIT_VALIDATORS = {
    "pagerduty_utils.settings.ForwarderSettings",
    "pagerduty_utils.config_parser.routing_rules.RoutingDocument",
    "pagerduty_utils.config_parser.routing_rules.RuleMatch",
    "pagerduty_utils.config_parser.routing_rules.RouteDecision",
    "pagerduty_utils.data_transformer.model.NormalizedAlert",
    "pagerduty_utils.pagerduty_events.AlertEvent",
    "pagerduty_utils.pagerduty_events.AlertPayload",
    "pagerduty_utils.pagerduty_events.Image",
    "pagerduty_utils.pagerduty_events.Link",
}


def test_in_lambda_the_forwarder_builds_only_the_validators_of_its_settings_rules_and_every_alert() -> None:
    [built] = _beside_the_forwarder_in_lambda(BUILT_VALIDATORS)

    assert set(built.split()) == FORWARDER_INIT_VALIDATORS


INIT_COLLECTIONS = """
import gc
import pagerduty_utils.init_phase
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
import app
tracked = {{id(item) for item in gc.get_objects()}}
print(len(collections), gc.isenabled(), id(app.{builder}) in tracked)
"""


@pytest.mark.parametrize("handler", HANDLER_ENVIRONMENTS, ids=lambda handler: handler.name)
def test_in_lambda_init_runs_no_collection_and_leaves_its_objects_frozen(handler: HandlerEnvironment) -> None:
    program = INIT_COLLECTIONS.format(builder=handler.builder)

    [in_lambda] = _run_beside_handler(handler, handler.variables(in_lambda=True), program)
    [elsewhere] = _run_beside_handler(handler, handler.variables(in_lambda=False), program)

    assert in_lambda == "0 True False"
    collections, running, builder_tracked = elsewhere.split()
    assert (int(collections) > 0, running, builder_tracked) == (True, "True", "True")


@pytest.mark.parametrize("handler", HANDLER_ENVIRONMENTS, ids=lambda handler: handler.name)
def test_in_lambda_importing_the_handler_builds_its_dependencies(handler: HandlerEnvironment) -> None:
    built, logged = _import_handler(handler, handler.variables(in_lambda=True))

    assert (built, logged) == (1, "")


@pytest.mark.parametrize("handler", HANDLER_ENVIRONMENTS, ids=lambda handler: handler.name)
def test_outside_lambda_importing_the_handler_builds_nothing(handler: HandlerEnvironment) -> None:
    assert _import_handler(handler, handler.variables(in_lambda=False)) == (0, "")


@pytest.mark.parametrize("handler", HANDLER_ENVIRONMENTS, ids=lambda handler: handler.name)
def test_a_misconfigured_handler_still_imports_and_says_why(handler: HandlerEnvironment) -> None:
    variables = handler.variables(in_lambda=True)
    del variables["STATE_TABLE_NAME"]

    built, logged = _import_handler(handler, variables)

    assert built == 0
    record = json.loads(logged.splitlines()[-1])
    assert record["level"] == "ERROR"
    assert "STATE_TABLE_NAME" in record["exception"]
