"""The whole stack on one machine: embedded AWS, PagerDuty simulator, functions, API, queue pollers, schedules.

``running_local_stack`` provisions the template's resources in a moto server (or connects to a deployed
stack with ``aws="real"``), stores local secret values, starts one warm worker per function, serves the API
routes (and, at ``/metrics``, the functions' EMF metrics as Prometheus text), polls each SQS event source into
its function, fires rate schedules, subscribes the simulator's webhooks to the local webhook route, and writes a
record so that ``pdutils invoke`` finds the running stack.
"""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from pagerduty_utils.metrics_collector import DEFAULT_NAMESPACE
from pagerduty_utils.prometheus import PrometheusRegistry
from pdutils.local.api_server import METRICS_PATH, ApiHandle, api_routes, serving_api
from pdutils.local.cli_arguments import DEFAULT_STACK_NAME
from pdutils.local.connection import pagerduty_extras
from pdutils.local.environment import function_environment
from pdutils.local.local_secrets import (
    HEALTH_TOKEN_VARIABLE,
    LOCAL_WEBHOOK_SECRET,
    local_secret_values,
    store_secret,
)
from pdutils.local.poller import BatchOutcome, SqsEventSource, SqsPoller
from pdutils.local.provision import ProvisionedStack, provision_stack, read_stack
from pdutils.local.runner import FunctionRunner, Invocation
from pdutils.local.scheduler import Scheduler, ScheduleSource
from pdutils.local.stack_record import LocalStackRecord, remove_record, write_record
from pdutils.local.target import AwsTarget
from pdutils.local.template import FunctionSpec, SamTemplate
from pdutils.moto_server import running_moto_server
from pdutils.simulator import DEV_TOKEN, SimulatorHandle, running_simulator

WEBHOOK_PATH = "/webhooks/pagerduty"
# Optional secrets an embedded stack gets anyway, when the template leaves them empty: with the health token
# keys set, the receiver serves the full GET /health report to a token from pdutils token.
EMBEDDED_PARAMETER_DEFAULTS = {"HealthTokenSecret": "pdutils-local/health-token-keys"}


@dataclass(frozen=True)
class LocalStackConfig:
    template_path: Path
    stack_name: str = DEFAULT_STACK_NAME
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    env_vars: Mapping[str, Mapping[str, str]] | None = None
    aws: Literal["embedded", "real"] = "embedded"
    region: str | None = None
    api_port: int = 0
    simulator_port: int = 0
    function_logs: TextIO | None = None
    on_batch: Callable[[BatchOutcome], None] | None = None
    on_schedule: Callable[[str, Invocation], None] | None = None
    poll_wait_seconds: int = 1
    write_record: bool = True
    webhook_secret: str = LOCAL_WEBHOOK_SECRET


@dataclass
class LocalStack:
    template: SamTemplate
    target: AwsTarget
    stack: ProvisionedStack
    simulator: SimulatorHandle
    api: ApiHandle
    runners: Mapping[str, FunctionRunner]
    pollers: list[SqsPoller]
    schedulers: list[Scheduler]
    metrics: PrometheusRegistry

    def schedules_of(self, function_id: str) -> list[Scheduler]:
        return [scheduler for scheduler in self.schedulers if scheduler.runner.function.logical_id == function_id]


@contextmanager
def running_local_stack(config: LocalStackConfig) -> Iterator[LocalStack]:
    template = SamTemplate.load(config.template_path)
    overrides = {**_embedded_parameter_defaults(config, template), **config.parameter_overrides}
    parameters = template.parameter_values(overrides, local_fallbacks=True)
    functions = template.functions(parameters)
    with ExitStack() as resources:
        target, stack = _aws(config, template, parameters, resources)
        simulator = resources.enter_context(running_simulator(config.simulator_port))
        environments = {
            function.logical_id: function_environment(
                function,
                stack.resolver,
                target,
                extras=pagerduty_extras(simulator.base_url),
                env_vars=config.env_vars,
            )
            for function in functions
        }
        if target.is_embedded:
            health_token_key = secrets.token_urlsafe(32)  # this stack's own: tokens die with it
            for environment in environments.values():
                stored = local_secret_values(
                    environment,
                    api_token=DEV_TOKEN,
                    webhook_secret=config.webhook_secret,
                    health_token_key=health_token_key,
                )
                for reference, value in stored.items():
                    store_secret(target, reference, value)
        namespace = next(
            (
                env["POWERTOOLS_METRICS_NAMESPACE"]
                for env in environments.values()
                if "POWERTOOLS_METRICS_NAMESPACE" in env
            ),
            DEFAULT_NAMESPACE,
        )
        metrics = PrometheusRegistry(namespace)
        runners = {
            function.logical_id: resources.enter_context(
                FunctionRunner(
                    function,
                    environments[function.logical_id],
                    region=target.region,
                    log_stream=config.function_logs,
                    metrics=metrics,
                )
            )
            for function in functions
        }
        routes = api_routes(functions, stack.resolver.resolve)
        api = resources.enter_context(
            serving_api(
                routes,
                lambda function_id, event: runners[function_id].invoke(event),
                port=config.api_port,
                metrics=metrics,
            )
        )
        if any(route.path == WEBHOOK_PATH for route in routes):
            simulator.add_webhook_subscription(api.url + WEBHOOK_PATH, config.webhook_secret)
        pollers = _pollers(config, target, stack, functions, runners)
        schedulers = _schedulers(config, target, stack, functions, runners)
        for poller in pollers:
            poller.start()
            resources.callback(poller.stop)
        for scheduler in schedulers:
            scheduler.start()
            resources.callback(scheduler.stop)
        if config.write_record:
            record = LocalStackRecord(
                endpoint_url=target.endpoint_url or "",
                region=target.region,
                stack_name=stack.name,
                simulator_url=simulator.base_url,
                simulator_control_token=simulator.simulator.config.control_token,
                api_url=api.url,
                health_token_secret_id=next(
                    (env[HEALTH_TOKEN_VARIABLE] for env in environments.values() if env.get(HEALTH_TOKEN_VARIABLE)),
                    None,
                ),
            )
            if target.is_embedded:
                write_record(template.directory, record)
                resources.callback(remove_record, template.directory, record.pid)
        yield LocalStack(template, target, stack, simulator, api, runners, pollers, schedulers, metrics)


def _embedded_parameter_defaults(config: LocalStackConfig, template: SamTemplate) -> dict[str, str]:
    if config.aws != "embedded":
        return {}
    return {
        name: value
        for name, value in EMBEDDED_PARAMETER_DEFAULTS.items()
        if name in template.parameters and not template.parameters[name].get("Default")
    }


def _aws(
    config: LocalStackConfig, template: SamTemplate, parameters: Mapping[str, str], resources: ExitStack
) -> tuple[AwsTarget, ProvisionedStack]:
    if config.aws == "real":
        target = AwsTarget.real(config.region)
        return target, read_stack(target, template, stack_name=config.stack_name, parameters=parameters)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the embedded AWS's request log
    endpoint = resources.enter_context(running_moto_server())
    target = AwsTarget.embedded(endpoint.url, config.region or "us-east-1")
    stack = provision_stack(target, template, stack_name=config.stack_name, parameter_overrides=parameters)
    return target, stack


def _pollers(
    config: LocalStackConfig,
    target: AwsTarget,
    stack: ProvisionedStack,
    functions: list[FunctionSpec],
    runners: Mapping[str, FunctionRunner],
) -> list[SqsPoller]:
    sqs = target.client("sqs")
    pollers = []
    for function in functions:
        for event in function.events_of_type("SQS"):
            properties = stack.resolver.resolve(dict(event.properties))
            if properties.get("Enabled", True) in (False, "false"):
                continue
            queue_url = sqs.get_queue_url(QueueName=str(properties["Queue"]).rsplit(":", 1)[-1])["QueueUrl"]
            source = SqsEventSource.from_event_properties(properties, queue_url)
            pollers.append(
                SqsPoller(
                    sqs,
                    source,
                    runners[function.logical_id],
                    region=target.region,
                    on_batch=config.on_batch,
                    wait_seconds=config.poll_wait_seconds,
                )
            )
    return pollers


def _schedulers(
    config: LocalStackConfig,
    target: AwsTarget,
    stack: ProvisionedStack,
    functions: list[FunctionSpec],
    runners: Mapping[str, FunctionRunner],
) -> list[Scheduler]:
    account_id = stack.resolver.account_id
    schedulers = []
    for function in functions:
        for event in function.events_of_type("Schedule", "ScheduleV2"):
            properties = stack.resolver.resolve(dict(event.properties))
            rule_name = f"{stack.name}-{function.logical_id}{event.name}"
            rule_arn = f"arn:aws:events:{target.region}:{account_id}:rule/{rule_name}"
            source = ScheduleSource.from_event_properties(event.name, properties, rule_arn)
            schedulers.append(
                Scheduler(
                    source,
                    runners[function.logical_id],
                    region=target.region,
                    account_id=account_id,
                    on_run=config.on_schedule,
                )
            )
    return schedulers


def print_summary(local_stack: LocalStack, stream: TextIO = sys.stdout) -> None:
    """What is running and where, for the console."""
    where = f"{local_stack.target.endpoint_url} (embedded)" if local_stack.target.is_embedded else "real AWS"
    print(f"AWS               {where}, stack {local_stack.stack.name}", file=stream)
    print(f"PagerDuty         {local_stack.simulator.base_url} (simulator)", file=stream)
    print(f"API               {local_stack.api.url}", file=stream)
    print(f"metrics           {local_stack.api.url}{METRICS_PATH} (Prometheus text)", file=stream)
    for route in local_stack.api.routes:
        print(f"  {route.method:6} {local_stack.api.url}{route.path} -> {route.function_id}", file=stream)
    for poller in local_stack.pollers:
        print(f"SQS               {poller.source.queue_url} -> {poller.runner.function.logical_id}", file=stream)
    for scheduler in local_stack.schedulers:
        print(f"schedule          {scheduler.source.expression} -> {scheduler.runner.function.logical_id}", file=stream)
    stream.flush()
