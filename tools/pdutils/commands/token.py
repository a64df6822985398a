"""``pdutils token``: mint a short-lived bearer token that unlocks the full ``GET /health`` report.

The token is signed with the first key of the secret the receiver's ``HEALTH_TOKEN_SECRET_ID`` names (Secrets
Manager name or ARN, or ``ssm:/path``), read from your AWS account (``--aws real``), an AWS-compatible endpoint
(``--endpoint-url``) or the embedded AWS of a running ``pdutils start``, whose receiver's secret is the default.
Only the token is printed on stdout, so ``curl -H "Authorization: Bearer $(pdutils token)" <HealthUrl>`` works;
nothing else is written.
"""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
from pathlib import Path
from typing import Any
from unittest import mock

from pdutils.errors import CommandError

CANNOT_MINT = 2
DEFAULT_TTL_SECONDS = 900


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "token",
        help="print a short-lived bearer token for the receiver's full GET /health report",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument(
        "--secret-id", help="the secret HEALTH_TOKEN_SECRET_ID names (default: the running pdutils start's)"
    )
    parser.add_argument(
        "--ttl", type=int, default=DEFAULT_TTL_SECONDS, help=f"lifetime in seconds (default {DEFAULT_TTL_SECONDS})"
    )
    parser.add_argument("--subject", help="who the token is for, as audit records show it (default: user@host)")
    parser.add_argument(
        "--aws",
        choices=("embedded", "real"),
        default="embedded",
        help="embedded: the moto server of a running pdutils start (or --endpoint-url); real: your AWS account",
    )
    parser.add_argument("--endpoint-url", help="an AWS-compatible endpoint to read the secret from (implies embedded)")
    parser.add_argument("--region", help="AWS region (default: the local stack's, or your AWS configuration's)")
    parser.add_argument(
        "-t", "--template", type=Path, default=Path("template.yaml"), help="template of the running local stack"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Deferred: the CLI imports every command at startup; these pull in boto3 and Powertools.
    from pagerduty_utils.exceptions import ConfigurationError, DependencyError, ValidationError  # noqa: PLC0415
    from pagerduty_utils.jwt_tokens import SecretSigningKeys, TokenAuthority  # noqa: PLC0415
    from pagerduty_utils.webhook_processor.health_access import HEALTH_TOKEN_POLICY  # noqa: PLC0415

    target_environment, secret_id = _target(args)
    subject = args.subject or f"{getpass.getuser()}@{socket.gethostname()}"
    # boto3 and Powertools read the target from the environment; it is restored when the token is minted.
    with mock.patch.dict("os.environ", target_environment):
        authority = TokenAuthority(SecretSigningKeys(secret_id, max_age=1), HEALTH_TOKEN_POLICY)
        try:
            token = authority.issue(subject, lifetime_seconds=args.ttl)
        except (ConfigurationError, DependencyError, ValidationError) as exc:
            print(f"pdutils token: {exc}", file=sys.stderr)
            return CANNOT_MINT
    print(token)
    return 0


def _target(args: argparse.Namespace) -> tuple[dict[str, str], str]:
    """The variables pointing boto3 at the chosen AWS, and the secret to read there."""
    from pdutils.local.stack_record import read_running_record  # noqa: PLC0415
    from pdutils.local.target import AwsTarget  # noqa: PLC0415

    if args.aws == "real" or args.endpoint_url:
        if not args.secret_id:
            raise CommandError("--secret-id is needed with --aws real or --endpoint-url: the receiver's secret")
        if args.aws == "real":
            return AwsTarget.real(args.region).environment, args.secret_id
        return AwsTarget.embedded(args.endpoint_url, args.region or "us-east-1").environment, args.secret_id
    record = read_running_record(args.template.resolve().parent)
    if record is None:
        raise CommandError(
            "no local stack is running for this template: start one with pdutils start, or pass --endpoint-url "
            "or --aws real with --secret-id"
        )
    secret_id = args.secret_id or record.health_token_secret_id
    if not secret_id:
        raise CommandError("the running stack's receiver has no HEALTH_TOKEN_SECRET_ID: pass --secret-id")
    return AwsTarget.embedded(record.endpoint_url, record.region).environment, secret_id
