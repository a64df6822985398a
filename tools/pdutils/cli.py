"""``pdutils``: run the stack locally without Docker or an AWS account, and operate it.

Each subcommand lives in ``pdutils.commands.<name>`` and exposes ``register(subparsers)``; its module is
imported only when the CLI starts, and its heavy imports happen inside the command itself. A command that
fails ends with one line on stderr (``pdutils.errors``) and a non-zero exit status; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from pdutils.errors import USAGE, explain
from pdutils.local import interrupt

COMMAND_MODULES: tuple[str, ...] = ("sim", "invoke", "health", "start_api", "start", "redrive", "demo", "token")


class CommandLineParser(argparse.ArgumentParser):
    """Help without the docstrings' reStructuredText quotes, and usage errors on one line."""

    def format_help(self) -> str:
        return super().format_help().replace("``", "")

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = CommandLineParser(prog="pdutils", description=__doc__.splitlines()[0] if __doc__ else None)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"pdutils.commands.{name}").register(subparsers)
    _add_debug_flag(parser, default=False)
    return parser


def _add_debug_flag(parser: argparse.ArgumentParser, *, default: bool | str) -> None:
    """``--debug`` before or after the command name: ``pdutils --debug start`` or ``pdutils start --debug``."""
    parser.add_argument("--debug", action="store_true", default=default, help="show tracebacks of failures")
    for action in parser._actions:  # argparse offers no public walk over subcommands
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                _add_debug_flag(subparser, default=argparse.SUPPRESS)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    interrupt.remember_stop_requests()
    try:
        result: int = args.handler(args)
        interrupt.raise_if_stop_requested()
        sys.stdout.flush()
    except BrokenPipeError:
        return _reader_went_away()
    except (Exception, KeyboardInterrupt) as error:
        if args.debug:
            raise
        explanation = explain(error)
        print(f"pdutils {args.command}: {explanation.message}", file=sys.stderr)
        return explanation.exit_status
    return result


def _reader_went_away() -> int:
    """Whoever read the output (``pdutils sim state | head -1``) closed the pipe: stop quietly, as Unix tools
    do, with the status of a process ended by SIGPIPE; the interpreter must not flush into the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
