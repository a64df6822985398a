"""``pdutils start-api``: serve the template's API routes on localhost, like ``sam local start-api``."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pdutils.errors import CommandError
from pdutils.local.cli_arguments import ENV_VARS_HELP, add_target_arguments, add_template_arguments, port_number


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "start-api",
        help="serve the template's API routes locally as API Gateway proxy events (sam local start-api without Docker)",
        description="Each request becomes an API Gateway REST (v1) proxy event for the route's function, which runs "
        "in a warm local worker; its response becomes the HTTP response. Ctrl-C stops.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=port_number, default=3000, help="port (default 3000; 0: any free port)")
    parser.add_argument("-n", "--env-vars", type=Path, help=ENV_VARS_HELP)
    add_template_arguments(parser)
    add_target_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Deferred: the CLI imports every command at startup, and these pull in boto3 and samtranslator.
    from pdutils.local import api_server, connection, environment, interrupt, runner, template  # noqa: PLC0415

    sam_template = template.SamTemplate.load(args.template)
    env_vars = environment.env_vars_for(args.env_vars, sam_template.directory)
    stack = connection.connect(sam_template, args)
    functions = [
        function for function in sam_template.functions(stack.resolver.parameters) if function.events_of_type("Api")
    ]
    routes = api_server.api_routes(functions, stack.resolver.resolve)
    if not routes:
        raise CommandError(f"{args.template} declares no Api events: there is nothing to serve")
    with ExitStack() as resources:
        runners = {
            function.logical_id: resources.enter_context(
                runner.FunctionRunner(
                    function,
                    environment.function_environment(
                        function, stack.resolver, stack.target, extras=stack.extras, env_vars=env_vars
                    ),
                    region=stack.target.region,
                    log_stream=sys.stderr,
                )
            )
            for function in functions
        }
        api = resources.enter_context(
            api_server.serving_api(
                routes,
                lambda function_id, event: runners[function_id].invoke(event),
                host=args.host,
                port=args.port,
            )
        )
        for route in routes:
            print(f"{route.method:6} {api.url}{route.path} -> {route.function_id}")
        print("Ctrl-C stops", flush=True)
        interrupt.wait_until_interrupted()
    return 0
