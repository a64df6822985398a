"""pdutils subcommands: one module each, registered in ``pdutils.cli.COMMAND_MODULES``.

Contract: ``register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None`` adds a parser
and sets ``handler=<callable(args) -> int exit code>`` with ``set_defaults``.
"""
