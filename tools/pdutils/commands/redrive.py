"""``pdutils redrive``: move dead-lettered alerts back to the alert queue once their cause is fixed.

Bodies and the original message attributes are kept; the forwarder's ``pdutils.dlq.*`` reason attributes are
removed. Without ``--dlq``/``--queue`` the queues are the stack's ``AlertDeadLetterQueue`` and ``AlertQueue``
(the running ``pdutils start`` stack by default, or ``--aws real --stack-name ...``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pdutils.errors import CommandError
from pdutils.local.cli_arguments import add_target_arguments, add_template_arguments

DEAD_LETTER_QUEUE_RESOURCE = "AlertDeadLetterQueue"
ALERT_QUEUE_RESOURCE = "AlertQueue"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "redrive",
        help="move dead-lettered alerts back to the alert queue after a fix",
        description="Receive every message of the dead-letter queue (or --max of them), send it to the alert "
        "queue with its body and original attributes, then delete it from the dead-letter queue. Prints the "
        "messages seen per dead-letter reason and how many moved. --dry-run only counts.",
    )
    parser.add_argument(
        "--dlq", metavar="URL", help=f"dead-letter queue URL (default: the stack's {DEAD_LETTER_QUEUE_RESOURCE})"
    )
    parser.add_argument("--queue", metavar="URL", help=f"alert queue URL (default: the stack's {ALERT_QUEUE_RESOURCE})")
    parser.add_argument("--max", type=int, metavar="N", help="move at most N messages")
    parser.add_argument("--dry-run", action="store_true", help="count per reason, move nothing")
    add_template_arguments(parser)
    add_target_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Deferred: the CLI imports every command at startup; these pull in boto3.
    from pagerduty_utils.alert_forwarder.dead_letter import redrive  # noqa: PLC0415
    from pagerduty_utils.exceptions import DependencyError  # noqa: PLC0415

    if args.max is not None and args.max < 1:
        print("pdutils redrive: --max must be at least 1", file=sys.stderr)
        return 2
    client, dead_letter_url, alert_url, endpoint_url = _queues(args)
    try:
        report = redrive(dead_letter_url, alert_url, client=client, max_messages=args.max, dry_run=args.dry_run)
    except DependencyError as exc:
        print(f"pdutils redrive: {exc}", file=sys.stderr)
        return 1
    reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(report.seen.items())) or "none"
    print(f"dead letters seen: {report.seen.total()} ({reasons})")
    if args.dry_run:
        print("dry run: nothing moved")
        return 0
    print(f"moved to {_queue_label(alert_url, endpoint_url)}: {report.moved}")
    if report.failed:
        print(f"failed to move (still dead-lettered): {report.failed}", file=sys.stderr)
        return 1
    return 0


def _queue_label(url: str, endpoint_url: str | None) -> str:
    """The queue as the user should read it: on a local endpoint by name and endpoint (the embedded AWS gives
    its queues AWS-like URLs that no real account has), on AWS by URL."""
    return f"queue {url.rstrip('/').rsplit('/', 1)[-1]} on {endpoint_url}" if endpoint_url else url


def _queues(args: argparse.Namespace) -> tuple[Any, str, str, str | None]:
    """The SQS client, the two queue URLs (as given, else resolved from the stack), and the AWS endpoint
    they are on (None: AWS itself)."""
    from pdutils.local import connection, template  # noqa: PLC0415
    from pdutils.local.target import AwsTarget  # noqa: PLC0415

    if args.dlq and args.queue:  # no stack needed
        if args.endpoint_url:
            target = AwsTarget.embedded(args.endpoint_url, args.region or "us-east-1")
            return target.client("sqs"), args.dlq, args.queue, args.endpoint_url
        import boto3  # noqa: PLC0415

        return boto3.client("sqs", region_name=args.region), args.dlq, args.queue, None
    stack = connection.connect(template.SamTemplate.load(args.template), args)
    if stack.placeholders:
        raise CommandError(
            "no stack to take the queues from: start one with pdutils start, or pass --endpoint-url, "
            "--aws real --stack-name NAME, or --dlq and --queue"
        )
    dead_letter_url = args.dlq or stack.resolver.resolve_string({"Ref": DEAD_LETTER_QUEUE_RESOURCE})
    alert_url = args.queue or stack.resolver.resolve_string({"Ref": ALERT_QUEUE_RESOURCE})
    return stack.target.client("sqs"), dead_letter_url, alert_url, stack.target.endpoint_url
