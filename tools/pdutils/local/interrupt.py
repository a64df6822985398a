"""Ctrl-C and SIGTERM for commands that run a stack: a request to stop is never lost.

Python turns Ctrl-C into ``KeyboardInterrupt`` wherever the main thread happens to be. While a stack starts,
that can be inside a finalizer or a library's own clean-up, where the exception is swallowed ("Exception
ignored in ...") and the command would go on to serve until the next Ctrl-C. ``remember_stop_requests`` records
every request before raising, so ``wait_until_interrupted`` and ``raise_if_stop_requested`` still see it.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_stop_requested = threading.Event()


def _request_stop_and_interrupt(_signal: int, _frame: FrameType | None) -> None:
    _stop_requested.set()
    raise KeyboardInterrupt


def _request_stop(_signal: int, _frame: FrameType | None) -> None:
    _stop_requested.set()


def remember_stop_requests() -> None:
    """From now on Ctrl-C and SIGTERM raise ``KeyboardInterrupt`` (clean-up runs) and are remembered."""
    for number in STOP_SIGNALS:
        signal.signal(number, _request_stop_and_interrupt)


def raise_if_stop_requested() -> None:
    """``KeyboardInterrupt`` if a stop was requested, even one whose exception was swallowed on its way up."""
    if _stop_requested.is_set():
        raise KeyboardInterrupt


# The kernel may hand a signal to any thread (a stack runs servers and pollers in threads of their own), and
# Python runs its handler only when the main thread executes bytecode: a main thread blocked in one endless
# wait would never see it. Waking this often costs nothing and bounds how late a Ctrl-C is seen.
_WAKE_SECONDS = 0.2


def wait_until_interrupted() -> None:
    """Block until Ctrl-C or SIGTERM; at once if one arrived while the command was starting. The request is
    answered by returning (the command stops as asked), so it is not raised again afterwards."""
    previous = {number: signal.signal(number, _request_stop) for number in STOP_SIGNALS}
    try:
        while not _stop_requested.wait(_WAKE_SECONDS):
            pass
        _stop_requested.clear()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
