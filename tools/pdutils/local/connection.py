"""Connect a command to a stack: which AWS, and what the template's Ref/GetAtt resolve to there.

- ``--aws embedded`` (default): the embedded AWS of a running ``pdutils start`` (or ``--endpoint-url``), with
  the stack it provisioned; with neither, references resolve to placeholders and AWS calls go nowhere useful.
- ``--aws real``: the user's AWS credentials; ``--stack-name`` names a deployed stack of this template.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from pdutils.local.cli_arguments import DEFAULT_STACK_NAME, parameter_overrides
from pdutils.local.intrinsics import IntrinsicResolver
from pdutils.local.provision import read_stack
from pdutils.local.stack_record import read_running_record
from pdutils.local.target import AwsTarget
from pdutils.local.template import SamTemplate
from pdutils.moto_server import LOCAL_CREDENTIALS


@dataclass(frozen=True)
class StackConnection:
    target: AwsTarget
    resolver: IntrinsicResolver
    extras: Mapping[str, str] = field(default_factory=dict)
    placeholders: bool = False  # no stack was found: references resolve to placeholders


def pagerduty_extras(simulator_url: str | None) -> dict[str, str]:
    """Point the PagerDuty clients at the simulator (one base URL serves both APIs)."""
    return {"PAGERDUTY_EVENTS_URL": simulator_url, "PAGERDUTY_API_URL": simulator_url} if simulator_url else {}


def connect(template: SamTemplate, args: argparse.Namespace) -> StackConnection:
    parameters = template.parameter_values(parameter_overrides(args.parameter_overrides), local_fallbacks=True)
    if args.aws == "real":
        target = AwsTarget.real(args.region)
        return _connect_to_stack(template, target, args.stack_name, parameters)
    if args.endpoint_url:
        target = AwsTarget.embedded(args.endpoint_url, args.region or "us-east-1")
        return _connect_to_stack(template, target, args.stack_name or DEFAULT_STACK_NAME, parameters)
    record = read_running_record(template.directory)
    if record is not None:
        target = AwsTarget.embedded(record.endpoint_url, record.region)
        connection = _connect_to_stack(template, target, record.stack_name, parameters)
        return StackConnection(connection.target, connection.resolver, pagerduty_extras(record.simulator_url))
    print(
        "pdutils: no local stack is running (start one with pdutils start): "
        "Ref/GetAtt resolve to placeholders and AWS calls will fail",
        file=sys.stderr,
    )
    region = args.region or LOCAL_CREDENTIALS["AWS_REGION"]
    target = AwsTarget(region=region, credentials=LOCAL_CREDENTIALS)
    return StackConnection(target, _placeholder_resolver(template, parameters, region), placeholders=True)


def _connect_to_stack(
    template: SamTemplate, target: AwsTarget, stack_name: str | None, parameters: Mapping[str, str]
) -> StackConnection:
    if stack_name is None:
        return StackConnection(target, _placeholder_resolver(template, parameters, target.region), placeholders=True)
    stack = read_stack(target, template, stack_name=stack_name, parameters=parameters)
    return StackConnection(target, stack.resolver)


def _placeholder_resolver(template: SamTemplate, parameters: Mapping[str, str], region: str) -> IntrinsicResolver:
    return IntrinsicResolver(parameters=parameters, resources={}, conditions=template.conditions, region=region)
