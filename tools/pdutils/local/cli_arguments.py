"""Command-line arguments shared by the local runtime's commands (kept free of heavy imports)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pdutils.errors import CommandError

DEFAULT_STACK_NAME = "pdutils-local"
HIGHEST_PORT = 65535
ENV_VARS_HELP = "environment variables file in SAM's format (default: env.local.json beside the template, if any)"


def port_number(text: str) -> int:
    """A ``--port`` value: 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-{HIGHEST_PORT})") from None
    if not 0 <= port <= HIGHEST_PORT:
        raise argparse.ArgumentTypeError(f"{port} is not a port number: use 0-{HIGHEST_PORT} (0 picks a free port)")
    return port


def add_template_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-t", "--template", type=Path, default=Path("template.yaml"), help="SAM template")
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="template parameter values (default: each parameter's Default)",
    )


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """For commands that use a stack someone else runs: ``invoke``, ``start-api``."""
    parser.add_argument(
        "--aws",
        choices=("embedded", "real"),
        default="embedded",
        help="embedded: the moto server of a running pdutils start (or --endpoint-url); real: your AWS account",
    )
    parser.add_argument("--endpoint-url", help="an AWS-compatible endpoint to use instead (implies embedded)")
    parser.add_argument("--stack-name", help=f"the deployed stack (default with --endpoint-url: {DEFAULT_STACK_NAME})")
    parser.add_argument("--region", help="AWS region (default: the local stack's, or your AWS configuration's)")


def add_local_stack_arguments(parser: argparse.ArgumentParser, *, real_aws: bool = True) -> None:
    """For commands that run the whole stack themselves (``start``, ``demo``); ``real_aws``: offer ``--aws real``."""
    add_template_arguments(parser)
    parser.add_argument("-n", "--env-vars", type=Path, help=ENV_VARS_HELP)
    if real_aws:
        parser.add_argument(
            "--aws",
            choices=("embedded", "real"),
            default="embedded",
            help="embedded (default): a moto server provisioned from the template; real: your AWS account's "
            "deployed stack (--stack-name), functions still run locally",
        )
    else:
        parser.set_defaults(aws="embedded")
    parser.add_argument("--stack-name", default=DEFAULT_STACK_NAME, help=f"stack name (default {DEFAULT_STACK_NAME})")
    parser.add_argument("--region", help="AWS region (default: us-east-1 embedded, your configuration's for real)")


def parameter_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator:
            raise CommandError(f"--parameter-overrides expects KEY=VALUE, got {pair!r}")
        overrides[name] = value
    return overrides
