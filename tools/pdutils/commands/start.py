"""``pdutils start``: the whole stack locally, until Ctrl-C.

An embedded AWS (moto server) provisioned from template.yaml itself, the PagerDuty simulator, the API served,
each SQS event source polled into its function with Lambda's batch semantics, and rate schedules fired.
With ``--aws real`` the functions run locally against an already deployed stack instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from pdutils.errors import CommandError
from pdutils.local.cli_arguments import add_local_stack_arguments, parameter_overrides, port_number

WEBHOOK_SECRET_ENV = "PDUTILS_WEBHOOK_SECRET"  # noqa: S105  # nosec B105  # a variable name


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "start",
        help="run the whole stack locally: embedded AWS, PagerDuty simulator, API, queue pollers, schedules",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-p", "--port", type=port_number, default=3000, help="API port (default 3000; 0: any free)")
    parser.add_argument(
        "--simulator-port", type=port_number, default=0, help="PagerDuty simulator port (default: any free)"
    )
    parser.add_argument(
        "--webhook-secret",
        help="the local stack's webhook signing secret: stored in its webhook secret, and the simulator signs "
        f"its deliveries with it (default: ${WEBHOOK_SECRET_ENV}, else local-webhook-secret, the one "
        "events/apigateway_webhook.json is signed with)",
    )
    add_local_stack_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Deferred: the CLI imports every command at startup, and these pull in moto, boto3 and samtranslator.
    from pdutils.local import environment, interrupt, local_secrets, local_stack, poller, runner  # noqa: PLC0415
    from pdutils.local.stack_record import record_path  # noqa: PLC0415

    webhook_secret = args.webhook_secret
    if webhook_secret is None:
        webhook_secret = os.environ.get(WEBHOOK_SECRET_ENV, local_secrets.LOCAL_WEBHOOK_SECRET)
    if not webhook_secret:
        raise CommandError(f"--webhook-secret (or ${WEBHOOK_SECRET_ENV}) is empty: give the secret to sign with")

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

    config = local_stack.LocalStackConfig(
        template_path=args.template,
        stack_name=args.stack_name,
        parameter_overrides=parameter_overrides(args.parameter_overrides),
        env_vars=environment.env_vars_for(args.env_vars, args.template.resolve().parent),
        aws=args.aws,
        region=args.region,
        api_port=args.port,
        simulator_port=args.simulator_port,
        function_logs=sys.stderr,
        on_batch=report_batch,
        on_schedule=report_schedule,
        webhook_secret=webhook_secret,
    )
    print(f"starting the local stack of {args.template} ...", flush=True)
    with local_stack.running_local_stack(config) as stack:
        local_stack.print_summary(stack)
        status_file = record_path(stack.template.directory)
        if status_file.exists():
            print(f"status file       {status_file} (invoke, sim fault, token, redrive... find the stack here)")
        print("Ctrl-C stops", flush=True)
        interrupt.wait_until_interrupted()
    print("local stack stopped")
    return 0
