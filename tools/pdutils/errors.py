"""What the CLI says when a command fails: one line, what was wrong and what to do, and an exit status.

Commands raise ``CommandError`` for mistakes they detect themselves; ``explain`` turns the errors that escape
a command from the libraries underneath (botocore, sockets, JSON files) into the same kind of line. Anything
else is reported by type and message, with ``--debug`` as the way to the traceback.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

# Exit statuses: 1 a command failed at what it does, 2 it was used wrongly or its input is unusable.
FAILED = 1
USAGE = 2
INTERRUPTED = 130  # 128 + SIGINT, as shells report a process stopped by Ctrl-C
DEBUG_HINT = "run again with --debug for the traceback"


class CommandError(Exception):
    """A failure the user can fix; the message says what was wrong and what to do."""

    def __init__(self, message: str, *, exit_status: int = USAGE) -> None:
        super().__init__(message)
        self.exit_status = exit_status


@dataclass(frozen=True)
class Explanation:
    message: str
    exit_status: int


def explain(error: BaseException) -> Explanation:
    """The one line (without the ``pdutils <command>:`` prefix) and the exit status for ``error``."""
    explanation = _explain(error)
    # Some messages come with their own line breaks (a YAML parser's, for one): the user gets one line.
    return Explanation(" ".join(explanation.message.split()), explanation.exit_status)


def _explain(error: BaseException) -> Explanation:
    if isinstance(error, CommandError):
        return Explanation(str(error), error.exit_status)
    if isinstance(error, KeyboardInterrupt):
        return Explanation("interrupted (Ctrl-C); everything it started is stopped", INTERRUPTED)
    known = _aws_explanation(error) or _os_explanation(error)
    if known is not None:
        return known
    return Explanation(f"unexpected {type(error).__name__}: {error} ({DEBUG_HINT})", FAILED)


def _aws_explanation(error: BaseException) -> Explanation | None:
    from botocore import exceptions  # noqa: PLC0415  # botocore is loaded only when a command used it

    if isinstance(error, exceptions.NoCredentialsError | exceptions.PartialCredentialsError):
        return Explanation(
            "no AWS credentials found for the real AWS account: configure them (aws configure, AWS_PROFILE, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or leave out --aws real to use the local stack",
            USAGE,
        )
    if isinstance(error, exceptions.EndpointConnectionError):
        return Explanation(
            f"cannot reach the AWS endpoint {error.kwargs.get('endpoint_url')}: is the server running? "
            "check --endpoint-url, or leave it out to use the stack of a running pdutils start",
            FAILED,
        )
    if isinstance(error, exceptions.ClientError):
        return Explanation(f"AWS refused: {error}", FAILED)
    if isinstance(error, exceptions.BotoCoreError):
        return Explanation(f"the AWS call failed: {error}", FAILED)
    return None


def _os_explanation(error: BaseException) -> Explanation | None:
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return Explanation(
            "the port is already in use: stop what listens on it, or choose another with --port (0 picks a free one)",
            USAGE,
        )
    if isinstance(error, FileNotFoundError):
        return Explanation(f"no such file: {error.filename}", USAGE)
    if isinstance(error, OSError) and error.filename:
        return Explanation(f"cannot use {error.filename}: {error.strerror}", USAGE)
    return None
