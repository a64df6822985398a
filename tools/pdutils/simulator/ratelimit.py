"""Per-key request budgets over a sliding window, as PagerDuty applies them (per routing key, per token)."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(self.reset_seconds),
        }


@dataclass
class SlidingWindowLimiter:
    """At most ``limit`` accepted requests per key in any ``window_seconds``; refused ones are not counted."""

    limit: int
    window_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _accepted: defaultdict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check(self, key: str) -> RateDecision:
        now = self.clock()
        with self._lock:
            accepted = self._accepted[key]
            while accepted and accepted[0] <= now - self.window_seconds:
                accepted.popleft()
            allowed = len(accepted) < self.limit
            if allowed:
                accepted.append(now)
            reset = math.ceil(accepted[0] + self.window_seconds - now) if accepted else 0
            return RateDecision(allowed, self.limit, max(self.limit - len(accepted), 0), max(reset, 0))

    def reset(self) -> None:
        with self._lock:
            self._accepted.clear()
