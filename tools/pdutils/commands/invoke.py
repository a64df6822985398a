"""``pdutils invoke``: run one function of template.yaml once with an event, like ``sam local invoke``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pdutils.errors import CommandError
from pdutils.json_file import parse_json, read_json_file
from pdutils.local.cli_arguments import ENV_VARS_HELP, add_target_arguments, add_template_arguments


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "invoke",
        help="invoke a function of the template once with an event (like sam local invoke, without Docker)",
        description="Import the function's handler in a fresh interpreter with its layers on the path and its "
        "environment from the template, call it with the event and a Lambda context, and print the result as "
        "JSON on stdout (logs on stderr). Exits 1 when the function fails.",
    )
    parser.add_argument("function", metavar="LogicalId", help="the function's logical id in the template")
    parser.add_argument("-e", "--event", default="-", help="event JSON file (default: stdin)")
    parser.add_argument("-n", "--env-vars", type=Path, help=ENV_VARS_HELP)
    add_template_arguments(parser)
    add_target_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Deferred: the CLI imports every command at startup, and these pull in boto3 and samtranslator.
    from pdutils.local import connection, environment, runner, template  # noqa: PLC0415

    sam_template = template.SamTemplate.load(args.template)
    function = sam_template.function(args.function)
    env_vars = environment.env_vars_for(args.env_vars, sam_template.directory)
    event = _read_event(args.event)
    stack = connection.connect(sam_template, args)
    variables = environment.function_environment(
        function, stack.resolver, stack.target, extras=stack.extras, env_vars=env_vars
    )
    with runner.FunctionRunner(function, variables, region=stack.target.region) as function_runner:
        invocation = function_runner.invoke(event)
    if invocation.error is not None:
        print(json.dumps(invocation.error, indent=2))
        print(f"{invocation.error['errorType']}: {invocation.error['errorMessage']}", file=sys.stderr)
        return 1
    print(json.dumps(invocation.result, indent=2))
    return 0


def _read_event(source: str) -> Any:
    if source != "-":
        return read_json_file(Path(source), what="event file")
    if sys.stdin.isatty():
        raise CommandError("no event: name a file with -e events/<file>.json, or pipe the event on stdin")
    return parse_json(sys.stdin.read(), source="the event on stdin")
