"""Block a command until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
from types import FrameType


def wait_until_interrupted() -> None:
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, request_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        stop.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
