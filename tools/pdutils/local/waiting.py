"""Wait for a condition to become true, checking it at short intervals, up to a deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], *, timeout: float, interval: float = 0.1) -> T | None:
    """The first non-None value ``probe`` returns within ``timeout`` seconds, else None."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None or time.monotonic() >= deadline:
            return value
        pause.wait(interval)
