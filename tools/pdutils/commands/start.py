"""``pdutils start``: the whole stack locally, until Ctrl-C.

An embedded AWS (moto server) provisioned from template.yaml itself, the PagerDuty simulator, the API served,
each SQS event source polled into its function with Lambda's batch semantics, and rate schedules fired.
With ``--aws real`` the functions run locally against an already deployed stack instead.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pdutils.local.cli_arguments import add_local_stack_arguments, parameter_overrides


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "start",
        help="run the whole stack locally: embedded AWS, PagerDuty simulator, API, queue pollers, schedules",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-p", "--port", type=int, default=3000, help="API port (default 3000; 0: any free port)")
    parser.add_argument("--simulator-port", type=int, default=0, help="PagerDuty simulator port (default: any free)")
    add_local_stack_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Deferred: the CLI imports every command at startup, and these pull in moto, boto3 and samtranslator.
    from pdutils.local import environment, interrupt, local_stack, poller, runner, template  # noqa: PLC0415

    def report_batch(outcome: poller.BatchOutcome) -> None:
        status = outcome.invocation.error["errorType"] if outcome.invocation.error else "ok"
        print(
            f"{outcome.function_id}: batch of {len(outcome.deleted) + len(outcome.kept)} -> {status}, "
            f"{len(outcome.deleted)} deleted, {len(outcome.kept)} left for redelivery",
            flush=True,
        )

    def report_schedule(function_id: str, invocation: runner.Invocation) -> None:
        status = invocation.error["errorType"] if invocation.error else "ok"
        print(f"{function_id}: scheduled run -> {status}", flush=True)

    try:
        config = local_stack.LocalStackConfig(
            template_path=args.template,
            stack_name=args.stack_name,
            parameter_overrides=parameter_overrides(args.parameter_overrides),
            env_vars=environment.load_env_vars_file(args.env_vars) if args.env_vars else None,
            aws=args.aws,
            region=args.region,
            api_port=args.port,
            simulator_port=args.simulator_port,
            function_logs=sys.stderr,
            on_batch=report_batch,
            on_schedule=report_schedule,
        )
        with local_stack.running_local_stack(config) as stack:
            local_stack.print_summary(stack)
            print("Ctrl-C stops", flush=True)
            interrupt.wait_until_interrupted()
    except (template.TemplateError, environment.EnvVarsError, OSError) as exc:  # OSError: the port is taken
        print(f"pdutils start: {exc}", file=sys.stderr)
        return 2
    print("local stack stopped")
    return 0
