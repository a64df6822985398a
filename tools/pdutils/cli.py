"""``pdutils``: run the stack locally without Docker or an AWS account, and operate it.

Each subcommand lives in ``pdutils.commands.<name>`` and exposes ``register(subparsers)``; its module is
imported only when the CLI starts, and its heavy imports happen inside the command itself.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = ("sim", "invoke", "health", "start_api", "start", "redrive", "demo", "token")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pdutils", description=__doc__.splitlines()[0] if __doc__ else None)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"pdutils.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
