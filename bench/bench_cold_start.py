"""Cold start of the three Lambda handlers, measured the same way for each (a script, not a test).

Each sample is a fresh interpreter started with ``-S -P`` (no site-packages, no script directory), whose path is
what Lambda gives a function using the layer: the layer's third-party packages (``pip install --target`` of
layers/utils/requirements.txt with this interpreter's pip, built once and cached under .bench/), then
layers/utils, then functions/<name>. Nothing from the dev virtualenv is importable, so httpx's optional CLI
dependencies (click, rich, pygments) are absent as in Lambda. The environment is the function's own with dummy
values (``pdutils.testing.lambda_environments``), POWERTOOLS_TRACE_DISABLED=true, and AWS_ENDPOINT_URL at a
closed local port: nothing is called.

Programs, interleaved round by round, medians of ``--runs``:
(a) ``import boto3``: the baseline of every ratio (beside it, a bare interpreter running ``pass``);
(b) ``import boto3`` and one client; then the floor: boto3 and one client, a validated pydantic model,
    Powertools' Logger and Metrics, what every handler needs before any code of its own; the HTTP floor, the
    same and httpx, what a handler that calls PagerDuty must import (the forwarder's and health checker's
    floor; the receiver's is the floor); and each handler's delivery floor: the forwarder's, the HTTP floor with
    an event loop, a TLS context, an async HTTP client and its anyio backend, and a Secrets Manager client: what
    it must have built before its first send; the receiver's, the floor with Secrets Manager and EventBridge
    clients and Powertools' REST resolver: what it must have built before its first webhook; and the health
    checker's, the HTTP floor with a TLS context and a client for each dependency it checks: what it must have
    built before its first run;
(c) ``import app`` outside Lambda (AWS_LAMBDA_FUNCTION_NAME unset): the modules alone, nothing built;
(d) ``import app`` in Lambda's environment: Lambda's Init, where the handler builds its dependencies (settings
    loaded, clients built, no network I/O; ``pagerduty_utils.init_phase``), checked by the program itself;
(e) the peer: ``import app`` of a naive Powertools + official-client forwarder (bench/peers/naive_forwarder,
    its own packages built the same way).
Then, with the embedded AWS and the simulator running in child processes, the first alert: Init and the first
invocation (one SQS record, delivered to the simulator) of the forwarder and of the naive forwarder, a fresh
interpreter and a new alert per sample; and beside them the first alert's floor: the delivery floor, then the
AWS calls the forwarder made for one alert (recorded once in this process) made again by plain boto3 clients
and the alert's body posted with httpx, no project code. Targets: each Init at most 1.2x the floor of what it
imports, and at most 1.2x its delivery floor (what it must have built before its first event: the row says how
much of the first target that floor leaves for the handler's own code); the first alert at most 0.6x the naive
forwarder's, and, since that is below the first alert's floor on this harness, at most 1.2x that floor (the
Init targets' margin).

CPU time (user + system of the child, ``resource.getrusage``) is the steadier figure on a shared machine; wall
time is beside it. Each child ends with ``os._exit``: Lambda does not stop the interpreter after init, so its
shutdown is not timed. Bytecode is compiled once beforehand (pip compiles the packages; the project's modules are
compiled with ``compileall``), as a deployed layer ships it: Lambda's file system is read-only, so the
children do not write bytecode. Afterwards ``-X importtime`` of each function's (d), the slowest first,
grouped by top-level package, shows where the remaining cost goes.

    .venv/bin/python bench/bench_cold_start.py [--runs 21] [--breakdown-runs 5] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import base64
import compileall
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

from pdutils.testing.bench_report import Figure, emit, ratio_figure, round_spread
from pdutils.testing.lambda_environments import HANDLER_ENVIRONMENTS, HandlerEnvironment
from pdutils.testing.layer_build import deployed_packages

REPOSITORY = Path(__file__).resolve().parents[1]
LAYER_SOURCE = REPOSITORY / "layers" / "utils"
REQUIREMENTS = LAYER_SOURCE / "requirements.txt"
CACHE = REPOSITORY / ".bench"
BASELINE = "import boto3"
FIRST_CLIENT = 'import boto3\ndynamodb = boto3.client("dynamodb")'
FLOOR = f"""
{FIRST_CLIENT}
from pydantic import BaseModel
class Alert(BaseModel):
    summary: str
Alert(summary="floor")
from aws_lambda_powertools import Logger, Metrics
Logger()
Metrics()
"""
"""What every handler needs before any code of its own: boto3 and one client, a validated pydantic model (settings
and Powertools' parser models), Powertools' Logger and Metrics."""
HTTP_FLOOR = FLOOR + "import httpx\n"
"""The floor of a handler that calls PagerDuty (forwarder, health checker): the same and httpx."""
DELIVERY_FLOOR = (
    HTTP_FLOOR
    + "import asyncio\ntls = httpx.create_ssl_context()\nclient = httpx.AsyncClient(verify=tls)\n"
    + "import anyio\nloop = asyncio.new_event_loop()\nloop.run_until_complete(anyio.sleep(0))\n"
    + 'secretsmanager = boto3.client("secretsmanager")\n'
)
"""What a forwarder must have built before its first send, whenever it builds it: the HTTP floor, an asyncio event
loop (a batch's alerts go out concurrently, as the bare-httpx bound sends them), a TLS context (the CA bundle
loaded), the async HTTP client that sends (httpx's transport built), anyio's asyncio backend (which that client's
pool runs on, loaded by the first await through anyio) and a Secrets Manager client for the routing keys. Ours
builds them during Init."""
FIRST_ALERT_FLOOR = (
    DELIVERY_FLOOR
    + """
import base64, json, sys
from botocore import xform_name
from botocore.exceptions import ClientError
def untagged(value):
    return base64.b64decode(value["bytes"]) if "bytes" in value else value
work = json.loads(sys.stdin.read(), object_hook=untagged)
clients = {"dynamodb": dynamodb, "secretsmanager": secretsmanager}
def make(calls):
    for operation, parameters, service in calls:
        try:
            getattr(clients[service], xform_name(operation))(**parameters)
        except ClientError:
            pass  # a lost condition costs the same round trip
async def post():
    (await client.post(work["url"], json=work["body"])).raise_for_status()
make(work["before"])
loop.run_until_complete(post())
make(work["after"])
"""
)
"""The floor of the first alert: the delivery floor, then the AWS calls the forwarder made for an alert (recorded,
made again by the floor's plain boto3 clients, in the same order), the alert posted where the forwarder posted it,
with the floor's ``httpx.AsyncClient`` (the design sends a batch's alerts concurrently). No parsing, routing,
validation, retries, metrics or logs."""
RECEIVER_FLOOR = (
    FLOOR
    + 'boto3.client("secretsmanager")\nboto3.client("events")\n'
    + "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\nAPIGatewayRestResolver()\n"
)
"""What the receiver must have built before its first webhook: the floor, a Secrets Manager client for the
signing secrets, an EventBridge client to publish, and Powertools' REST resolver, which routes its requests and
maps its errors. Ours builds them during Init."""
HEALTH_FLOOR = (
    HTTP_FLOOR
    + "tls = httpx.create_ssl_context()\n"
    + "".join(f'boto3.client("{service}")\n' for service in ("secretsmanager", "kms", "sqs", "cloudwatch"))
)
"""What the health checker must have built before its first run: the HTTP floor, a TLS context for the Events API
reachability probe, and a client for each dependency it checks besides the table (secrets, the KMS key, the
queues and their age metric). Ours builds them during Init."""
IMPORT_HANDLER = "import app"


def init_program(function: HandlerEnvironment) -> str:
    """Lambda's Init: importing the handler builds its dependencies (``init_phase``); the check costs nothing."""
    return f"{IMPORT_HANDLER}\nassert app.{function.builder}.cache_info().currsize == 1"


# ---------------------------------------------------------------------------------------------- the layer


def layer_packages(requirements: Path = REQUIREMENTS, name: str = "layer-packages") -> Path:
    """The third-party packages of ``requirements`` as deployed (installed, pruned, compiled), built once."""
    return deployed_packages(requirements, CACHE, name)


def compile_project_modules() -> None:
    """Bytecode for layers/utils and the handlers, as a layer built with ``compileall`` ships it."""
    for directory in (LAYER_SOURCE, *(REPOSITORY / "functions" / function.name for function in HANDLER_ENVIRONMENTS)):
        if not compileall.compile_dir(directory, quiet=1):
            raise RuntimeError(f"compileall failed in {directory}")


def child_environment(function: HandlerEnvironment, packages: Path, *, in_lambda: bool = True) -> dict[str, str]:
    """Only what the function would have in Lambda (dummy values), nothing inherited from this shell."""
    path = [packages, LAYER_SOURCE, REPOSITORY / "functions" / function.name]
    absent = CACHE / "no-such-file"
    return {
        **function.variables(in_lambda=in_lambda),
        "PYTHONPATH": os.pathsep.join(str(entry) for entry in path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_CONFIG_FILE": str(absent),
        "AWS_SHARED_CREDENTIALS_FILE": str(absent),
        "HOME": str(CACHE),
    }


ISOLATION_CHECK = """
import sys
leaked = [name for name, module in sys.modules.items() if {venv!r} in (getattr(module, "__file__", None) or "")]
assert not leaked, f"imported from the dev virtualenv: {{leaked}}"
assert not {{"click", "rich", "pygments"}} & sys.modules.keys(), "httpx's CLI dependencies were imported"
assert sys.modules["boto3"].__file__.startswith({packages!r}), sys.modules["boto3"].__file__
"""


def check_isolation(function: HandlerEnvironment, packages: Path) -> None:
    """Fail loudly if a child could import anything from the dev virtualenv."""
    check = ISOLATION_CHECK.format(venv=sys.prefix, packages=str(packages))
    run_child(init_program(function) + "\n" + check, child_environment(function, packages))


# A Lambda environment keeps its process after init: the interpreter's shutdown (tearing down every module,
# 25 ms after `import boto3` and about 80 ms after a handler's setup on this machine) is no part of a cold start.
EXIT_WITHOUT_SHUTDOWN = "\nimport os, sys\nsys.stdout.flush()\nsys.stderr.flush()\nos._exit(0)\n"


def run_child(
    program: str, environment: Mapping[str, str], *options: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(  # noqa: S603  # this interpreter with our own programs
        [sys.executable, "-S", "-P", *options, "-c", program + EXIT_WITHOUT_SHUTDOWN],
        env=environment,
        cwd=CACHE,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{program!r} failed:\n{completed.stderr[-3000:]}")
    return completed


# ---------------------------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Sample:
    cpu_ms: float
    wall_ms: float


def timed_child(program: str, environment: Mapping[str, str], *, stdin: str = "") -> Sample:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run_child(program, environment, stdin=stdin)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Sample(cpu_ms=cpu * 1000, wall_ms=wall * 1000)


@dataclass(frozen=True)
class Row:
    """A program's medians, and its CPU time round by round (a round runs each program once, in the same order)."""

    label: str
    cpu_ms: float
    wall_ms: float
    cpu_rounds: tuple[float, ...] = ()

    @classmethod
    def of(cls, label: str, samples: Sequence[Sample]) -> Row:
        return cls(
            label,
            statistics.median(sample.cpu_ms for sample in samples),
            statistics.median(sample.wall_ms for sample in samples),
            tuple(sample.cpu_ms for sample in samples),
        )


FLOOR_LABEL = "floor: boto3 + one client + a pydantic model + Logger and Metrics, no project code"
HTTP_FLOOR_LABEL = "HTTP floor: the floor + httpx (handlers that call PagerDuty)"
DELIVERY_FLOOR_LABEL = (
    "delivery floor: the HTTP floor + an event loop, a TLS context, an async HTTP client and its anyio backend,"
    " a Secrets Manager client"
)
RECEIVER_FLOOR_LABEL = (
    "receiver's delivery floor: the floor + Secrets Manager and EventBridge clients + Powertools' REST resolver"
)
HEALTH_FLOOR_LABEL = (
    "health checker's delivery floor: the HTTP floor + a TLS context + Secrets Manager, KMS, SQS and CloudWatch clients"
)
INIT_LABEL = "Init (import + first setup)"
FLOORS = {"alert_forwarder": HTTP_FLOOR_LABEL, "webhook_receiver": FLOOR_LABEL, "health_checker": HTTP_FLOOR_LABEL}
"""Each handler's Init is held against the floor of what it must import: the receiver never calls PagerDuty."""
DELIVERY_FLOORS = {
    "alert_forwarder": DELIVERY_FLOOR_LABEL,
    "webhook_receiver": RECEIVER_FLOOR_LABEL,
    "health_checker": HEALTH_FLOOR_LABEL,
}
"""And against everything it must have built before its first event, whenever it builds it: the import floor plus
the clients, TLS context, event loop and resolver its first event uses. Building them in the first invocation
instead of Init would only move them (and out of Init's unthrottled CPU), so this is the floor a handler's Init can
approach."""


NAIVE_INIT_LABEL = "naive Powertools + official client handler: Init (import)"


def naive_environment(naive_packages: Path) -> dict[str, str]:
    """The naive forwarder's Init: the forwarder's variables with dummy values, its own packages."""
    forwarder = next(function for function in HANDLER_ENVIRONMENTS if function.name == "alert_forwarder")
    environment = child_environment(forwarder, naive_packages)
    environment["PYTHONPATH"] = os.pathsep.join(str(entry) for entry in (naive_packages, NAIVE_FORWARDER))
    return environment


def measure(packages: Path, naive_packages: Path, runs: int) -> list[Row]:
    """Medians over ``runs`` rounds; each round runs every program once, in the same order."""
    reference = child_environment(HANDLER_ENVIRONMENTS[0], packages)
    programs: dict[str, tuple[str, dict[str, str]]] = {
        "`import boto3` (baseline)": (BASELINE, reference),
        "bare interpreter (`pass`), for reference": ("pass", reference),
        "`import boto3` and one client (DynamoDB)": (FIRST_CLIENT, reference),
        FLOOR_LABEL: (FLOOR, reference),
        HTTP_FLOOR_LABEL: (HTTP_FLOOR, reference),
        DELIVERY_FLOOR_LABEL: (DELIVERY_FLOOR, reference),
        RECEIVER_FLOOR_LABEL: (RECEIVER_FLOOR, reference),
        HEALTH_FLOOR_LABEL: (HEALTH_FLOOR, reference),
    }
    for function in HANDLER_ENVIRONMENTS:
        outside_lambda = child_environment(function, packages, in_lambda=False)
        programs[f"{function.name}: import only (outside Lambda: nothing built)"] = (IMPORT_HANDLER, outside_lambda)
        programs[f"{function.name}: {INIT_LABEL}"] = (init_program(function), child_environment(function, packages))
    programs[NAIVE_INIT_LABEL] = (IMPORT_HANDLER, naive_environment(naive_packages))
    samples: dict[str, list[Sample]] = defaultdict(list)
    for program, environment in programs.values():
        run_child(program, environment)  # warm the file cache once
    for _ in range(runs):
        for label, (program, environment) in programs.items():
            samples[label].append(timed_child(program, environment))
    return [Row.of(label, values) for label, values in samples.items()]


def print_table(rows: Sequence[Row], runs: int) -> None:
    baseline = rows[0]
    print(f"Median of {runs} interleaved runs, fresh `python -S` per sample, POWERTOOLS_TRACE_DISABLED=true")
    print()
    print("| program | CPU time | x `import boto3` | wall time | x `import boto3` |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.label} | {row.cpu_ms:.0f} ms | {row.cpu_ms / baseline.cpu_ms:.2f}x "
            f"| {row.wall_ms:.0f} ms | {row.wall_ms / baseline.wall_ms:.2f}x |"
        )
    print()


# ---------------------------------------------------------------------------------------------- breakdown


PROGRAM_STARTS = "-- the program starts --"
PROGRAM_TOOK = "-- the program took (ms): "
TIMED_PROGRAM = f"""
import sys, time
sys.stderr.write("{PROGRAM_STARTS}\\n")
started = time.perf_counter()
{{program}}
sys.stderr.write(f"{PROGRAM_TOOK}{{{{(time.perf_counter() - started) * 1000}}}}\\n")
"""
NOT_IMPORTS = "setup's own work: boto3 session and clients, secrets providers, TLS context, settings (not imports)"
STANDARD_LIBRARY = "standard library (imported directly)"


def breakdown(function: HandlerEnvironment, packages: Path, runs: int) -> dict[str, float]:
    """Median milliseconds of (d)'s work per part over ``runs`` runs under ``-X importtime``: its imports
    (self times) by top-level package, and its time that is not an import.

    The same work as (d), in two steps so that building is not counted as the handler module's own import time:
    the handler imported outside Lambda, then its builder called.

    A standard-library module counts towards the package whose import first pulled it in (``asyncio`` under
    ``anyio``, say): that is what leaving the package out would save. The interpreter's own start and exit
    (the bare interpreter's row in the table) are outside the program.
    """
    parts: dict[str, list[float]] = defaultdict(list)
    program = TIMED_PROGRAM.format(program=f"{IMPORT_HANDLER}\napp.{function.builder}()")
    environment = child_environment(function, packages, in_lambda=False)
    for _ in range(runs):
        lines = run_child(program, environment, "-X", "importtime").stderr.splitlines()
        starts = lines.index(PROGRAM_STARTS)
        took = float(next(line for line in lines if line.startswith(PROGRAM_TOOK)).removeprefix(PROGRAM_TOOK))
        imports = group_import_times(lines[starts:])
        for group, milliseconds in imports.items():
            parts[group].append(milliseconds)
        parts[NOT_IMPORTS].append(took - sum(imports.values()))
    return {group: statistics.median(values + [0.0] * (runs - len(values))) for group, values in parts.items()}


def group_import_times(lines: Sequence[str]) -> dict[str, float]:
    """``-X importtime`` prints a module after the modules it imported, indented one level deeper: read in
    reverse, every line follows its importer."""
    groups: dict[str, float] = defaultdict(float)
    importers: list[tuple[int, str]] = []  # (depth, group) of the modules above the current line
    for line in reversed(lines):
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name_column = line.removeprefix("import time:").split("|")
        depth = len(name_column) - len(name_column.lstrip())
        name = name_column.strip()
        while importers and importers[-1][0] >= depth:
            importers.pop()
        group = package_group(name)
        if group == STANDARD_LIBRARY and importers:
            group = importers[-1][1]
        importers.append((depth, group))
        groups[group] += int(self_us) / 1000
    return groups


def package_group(module: str) -> str:
    top = module.split(".", maxsplit=1)[0]
    if top in sys.stdlib_module_names:
        return STANDARD_LIBRARY
    if top == "app":
        return "the handler module (app)"
    return top


def print_breakdown(parts: Mapping[str, Mapping[str, float]], slowest: str, runs: int, minimum_ms: float = 2.0) -> None:
    """One column per function; parts under ``minimum_ms`` in every column are summed as "other packages"."""
    names = list(parts)
    groups = sorted(
        {group for by_group in parts.values() for group in by_group}, key=lambda g: -parts[slowest].get(g, 0.0)
    )
    shown = [group for group in groups if any(parts[name].get(group, 0.0) >= minimum_ms for name in names)]
    print(
        f"Where import + first setup goes (`-X importtime` self times, median of {runs} runs; the slowest above, "
        f"{slowest}, first; a standard-library module counts towards the package that imported it first)"
    )
    print()
    print("| part | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for group in shown:
        print(f"| {group} | " + " | ".join(f"{parts[name].get(group, 0.0):.0f} ms" for name in names) + " |")
    others = [sum(value for group, value in parts[name].items() if group not in shown) for name in names]
    print("| other packages | " + " | ".join(f"{value:.0f} ms" for value in others) + " |")
    print(
        "| **the program (import + first setup)** | "
        + " | ".join(f"**{sum(parts[name].values()):.0f} ms**" for name in names)
        + " |"
    )
    print()


# ---------------------------------------------------------------------------------------------- first alert


NAIVE_FORWARDER = REPOSITORY / "bench" / "peers" / "naive_forwarder"
NAIVE = "naive Powertools + official client handler"
FIRST_ALERT_FLOOR_NAME = (
    "first alert floor (the delivery floor + the forwarder's AWS calls for one alert + its post, no project code), CPU"
)
FIRST_ALERT_PROGRAM = """
import json, sys
event = json.loads(sys.stdin.read())
class Context:
    function_name = "alert-forwarder"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:alert-forwarder"
    aws_request_id = "cold-start"
    def get_remaining_time_in_millis(self):
        return 60_000
import app
response = app.lambda_handler(event, Context())
assert not (response or {}).get("batchItemFailures"), response
"""
"""Lambda's Init (``import app``) and the first invocation, one SQS record, until PagerDuty has the alert."""


@dataclass(frozen=True)
class FirstAlert:
    ours: Row
    naive: Row
    floor: Row
    aws_calls: str
    """The floor's AWS calls, by operation: the forwarder's for one alert."""


def record_first_alert(stack: Any, environment: Mapping[str, str], pagerduty_url: str) -> dict[str, Any]:
    """The first alert's work, for the floor to do again: the AWS calls a freshly built forwarder makes for one
    alert (recorded in this process, secrets cache empty), split where it posted, and the body it posted."""
    from pagerduty_utils import secrets  # noqa: PLC0415  # only the first alert's floor needs the forwarder here
    from pagerduty_utils.alert_forwarder.wiring import PagerDutySender, build_forwarder  # noqa: PLC0415
    from pagerduty_utils.api_client import AsyncEventsClient  # noqa: PLC0415
    from pagerduty_utils.settings import ForwarderSettings, load_settings  # noqa: PLC0415
    from pdutils.child_servers import SIMULATOR_CONTROL_HEADERS  # noqa: PLC0415
    from pdutils.testing.aws_calls import AwsCallCounter  # noqa: PLC0415
    from pdutils.testing.forwarder import LambdaContextStub, application_alert  # noqa: PLC0415

    counter = AwsCallCounter()
    calls_before_post: list[int] = []

    class PostNotingSender(PagerDutySender):
        async def send(self, event: Any, *, deadline: float | None = None) -> Any:
            calls_before_post.append(len(counter.requests))
            return await super().send(event, deadline=deadline)

    stack.publish(json.dumps(application_alert("cold-recorded")))
    event = stack.receive_batch(max_records=1)
    secrets.clear_cache()
    with mock.patch.dict(os.environ, environment), counter.installed():
        settings = load_settings(ForwarderSettings)
        forwarder = build_forwarder(settings, sender=PostNotingSender(AsyncEventsClient.from_settings(settings)))
        stack.settle(event, forwarder.handle(event, LambdaContextStub()))
    state = httpx.get(f"{pagerduty_url}/_sim/state", headers=SIMULATOR_CONTROL_HEADERS, timeout=30).json()
    body = next(request["body"] for request in reversed(state["requests"]) if request["path"] == "/v2/enqueue")
    requests, (posted,) = counter.requests, calls_before_post
    return {"before": requests[:posted], "after": requests[posted:], "url": f"{pagerduty_url}/v2/enqueue", "body": body}


def tagged_bytes(value: object) -> dict[str, str]:
    """Bytes in the recorded calls (the ledger's compressed replay copy) as JSON, for the floor to decode."""
    if not isinstance(value, bytes):
        raise TypeError(f"{type(value).__name__} in a recorded call")
    return {"bytes": base64.b64encode(value).decode()}


def first_alert(packages: Path, naive_packages: Path, runs: int) -> FirstAlert:
    """Medians over ``runs`` interleaved rounds of the forwarder, the naive forwarder and the first alert's floor,
    each sample a fresh interpreter; the two forwarders each deliver a new alert (a redelivered one would be
    skipped) to the simulator through the embedded AWS, both running in child processes of their own."""
    from pdutils.child_servers import servers_in_child_process  # noqa: PLC0415  # only this part needs servers
    from pdutils.moto_server import LOCAL_CREDENTIALS  # noqa: PLC0415
    from pdutils.testing.forwarder import application_alert, provision_forwarder_stack  # noqa: PLC0415

    forwarder = next(function for function in HANDLER_ENVIRONMENTS if function.name == "alert_forwarder")
    samples: dict[str, list[Sample]] = defaultdict(list)
    os.environ.update(LOCAL_CREDENTIALS)  # this process provisions the stack and reads the queue
    with servers_in_child_process(validate=False) as (aws_url, pagerduty_url):
        stack, stack_environment = provision_forwarder_stack(aws_url)
        remote = {
            **LOCAL_CREDENTIALS,
            **stack_environment,
            "AWS_ENDPOINT_URL": aws_url,
            "PAGERDUTY_EVENTS_URL": pagerduty_url,
            "PAGERDUTY_API_URL": pagerduty_url,
        }
        work = record_first_alert(stack, remote, pagerduty_url)
        ours = {**child_environment(forwarder, packages), **remote}
        naive = {
            **remote,
            **{name: ours[name] for name in ("AWS_LAMBDA_FUNCTION_NAME", "AWS_CONFIG_FILE", "HOME")},
            "AWS_SHARED_CREDENTIALS_FILE": ours["AWS_SHARED_CREDENTIALS_FILE"],
            "PYTHONPATH": os.pathsep.join(str(entry) for entry in (naive_packages, NAIVE_FORWARDER)),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        for round_number in range(runs + 1):  # the first round warms the file cache and the servers
            for label, environment in (("ours", ours), ("naive", naive)):
                stack.publish(json.dumps(application_alert(f"cold-{label}-{round_number}", second=round_number)))
                event = stack.receive_batch(max_records=1)
                sample = timed_child(FIRST_ALERT_PROGRAM, environment, stdin=json.dumps(event))
                if round_number:
                    samples[label].append(sample)
            sample = timed_child(FIRST_ALERT_FLOOR, ours, stdin=json.dumps(work, default=tagged_bytes))
            if round_number:
                samples["floor"].append(sample)
    calls = Counter(request.operation for request in work["before"] + work["after"])
    return FirstAlert(
        **{label: Row.of(label, values) for label, values in samples.items()},
        aws_calls=", ".join(f"{operation} {count}" for operation, count in sorted(calls.items())),
    )


# ---------------------------------------------------------------------------------------------- figures


def figures(rows: Sequence[Row], first: FirstAlert) -> list[Figure]:
    """Each handler's Init against its floor and against its delivery floor, the naive handler's beside them,
    and the forwarder's first alert against the naive forwarder's and against its own floor, with the delivery
    floor beside it (CPU time of the children, the steadier figure on a shared machine; wall time in the
    notes)."""
    by_label = {row.label: row for row in rows}
    delivery_floor = by_label[DELIVERY_FLOOR_LABEL]

    def against(label: str, floor_label: str, *, at_most: float | None, note: str = "") -> Figure:
        peer_name = floor_label.partition(":")[0]
        return paired(f"{label}, CPU", by_label[label], by_label[floor_label], peer_name, at_most=at_most, note=note)

    result = [
        against(f"{function.name}: {INIT_LABEL}", FLOORS[function.name], at_most=1.2)
        for function in HANDLER_ENVIRONMENTS
    ]
    for function in HANDLER_ENVIRONMENTS:
        built, imported = by_label[DELIVERY_FLOORS[function.name]], by_label[FLOORS[function.name]]
        note = _room_left(built, imported, at_most=1.2)
        result.append(against(f"{function.name}: {INIT_LABEL}", built.label, at_most=1.2, note=note))
    result.append(against(NAIVE_INIT_LABEL, HTTP_FLOOR_LABEL, at_most=None))
    first_name = "alert_forwarder: Init + first alert delivered, CPU"
    result += [
        paired(first_name, first.ours, first.naive, NAIVE, at_most=0.6),
        replace(
            ratio_figure(
                "delivery floor (no project code, nothing sent), CPU",
                delivery_floor.cpu_ms,
                "ms",
                NAIVE,
                first.naive.cpu_ms,
                at_most=None,
            ),
            note="what any forwarder built on these components pays before its first alert",
        ),
        paired(
            FIRST_ALERT_FLOOR_NAME,
            first.floor,
            first.naive,
            NAIVE,
            at_most=None,
            note=f"the floor's AWS calls: {first.aws_calls}",
        ),
        paired(
            first_name,
            first.ours,
            first.floor,
            FIRST_ALERT_FLOOR_NAME.partition(" (")[0],
            at_most=1.2,
            note="the target of 0.6x the naive forwarder is below this floor; 1.2x is the Init targets' margin",
        ),
    ]
    return result


def paired(name: str, ours: Row, peer: Row, peer_name: str, *, at_most: float | None, note: str = "") -> Figure:
    """``ours`` against ``peer``, timed in the same rounds: judged on the ratio of their medians (CPU time), the
    round-by-round spread and the wall times beside it."""
    walls = f"wall {ours.wall_ms:.0f} ms vs {peer.wall_ms:.0f} ms"
    return replace(
        ratio_figure(name, ours.cpu_ms, "ms", peer_name, peer.cpu_ms, at_most=at_most),
        note="; ".join(filter(None, (note, round_spread(ours.cpu_rounds, peer.cpu_rounds), walls))),
    )


def _room_left(built: Row, imported: Row, *, at_most: float) -> str:
    """How much of the import floor's target is left for a handler's own code once what it must build is built."""
    room = at_most * imported.cpu_ms - built.cpu_ms
    name = imported.label.partition(":")[0]
    left = f"leaves {room:.0f} ms for the handler's own code" if room > 0 else "is below it"
    return f"this floor is {built.cpu_ms / imported.cpu_ms:.2f}x the {name}: {at_most:g}x the {name} {left}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=21, help="interleaved rounds (fresh interpreters per program)")
    parser.add_argument("--breakdown-runs", type=int, default=5, help="-X importtime runs per function")
    parser.add_argument("--quick", action="store_true", help="7 rounds, no breakdown")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for bench/run_all.py)")
    args = parser.parse_args(argv)
    runs = 7 if args.quick else args.runs

    packages = layer_packages()
    naive_packages = layer_packages(NAIVE_FORWARDER / "requirements.txt", "naive-forwarder-packages")
    compile_project_modules()
    for function in HANDLER_ENVIRONMENTS:
        check_isolation(function, packages)
    rows = measure(packages, naive_packages, runs)
    first = first_alert(packages, naive_packages, runs)
    if args.json:
        emit(figures(rows, first), as_json=True)
        return 0
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"Layer packages: {packages.relative_to(REPOSITORY)} (pip install --target of {REQUIREMENTS.name})")
    print()
    print_table(rows, runs)
    emit(figures(rows, first), as_json=False)
    print()
    if args.quick:
        return 0

    setups = {row.label.split(":")[0]: row.cpu_ms for row in rows if row.label.endswith(INIT_LABEL)}
    slowest = max(setups, key=setups.__getitem__)
    order = sorted(HANDLER_ENVIRONMENTS, key=lambda function: function.name != slowest)
    parts = {function.name: breakdown(function, packages, args.breakdown_runs) for function in order}
    print_breakdown(parts, slowest, args.breakdown_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
