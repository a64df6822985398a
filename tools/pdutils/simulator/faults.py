"""Fault injection: make the next N requests (or a seeded fraction of them) fail the way networks fail.

A fault is one of: an HTTP status (429 with or without rate-limit headers, 5xx, 400), added latency before
the normal answer, a timeout (the connection is held, unanswered, past the client's read timeout) or a dropped
connection (closed without a response). Faults apply to PagerDuty paths only, never to ``/_sim/`` control.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_RATE_LIMIT_RESET_SECONDS = 1


@dataclass
class Fault:
    """One injected behaviour and how many more requests it applies to (``remaining`` None: until cleared)."""

    status: int | None = None
    remaining: int | None = 1
    fraction: float | None = None
    headers: dict[str, str] | None = None
    delay: float = 0.0
    timeout: bool = False
    drop: bool = False
    path_prefix: str | None = None

    def __post_init__(self) -> None:
        if self.fraction is not None and not 0.0 <= self.fraction <= 1.0:
            raise ValueError("fraction must be between 0 and 1")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (4xx or 5xx)")
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.status is None and not (self.timeout or self.drop or self.delay):
            raise ValueError("a fault needs a status, a delay, timeout=True or drop=True")

    @property
    def kind(self) -> str:
        if self.drop:
            return "drop"
        if self.timeout:
            return "timeout"
        if self.status is not None:
            return f"status:{self.status}"
        return "delay"

    def response_headers(self) -> dict[str, str]:
        """Headers of the injected answer: given ones, else PagerDuty's rate-limit headers on a 429."""
        if self.headers is not None:
            return dict(self.headers)
        if self.status == 429:
            return {
                "ratelimit-limit": "960",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(DEFAULT_RATE_LIMIT_RESET_SECONDS),
            }
        return {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "status": self.status,
            "remaining": self.remaining,
            "fraction": self.fraction,
            "headers": self.headers,
            "delay": self.delay,
            "timeout": self.timeout,
            "drop": self.drop,
            "path_prefix": self.path_prefix,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Fault:
        """Build from the JSON the control plane receives (same names as ``FaultInjector.inject``)."""
        known = {"status", "count", "fraction", "headers", "delay", "timeout", "drop", "path_prefix"}
        unknown = set(document) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        count = document.get("count", 1)
        return cls(
            status=document.get("status"),
            remaining=None if count is None else int(count),
            fraction=document.get("fraction"),
            headers=document.get("headers"),
            delay=float(document.get("delay", 0.0)),
            timeout=bool(document.get("timeout", False)),
            drop=bool(document.get("drop", False)),
            path_prefix=document.get("path_prefix"),
        )


@dataclass
class FaultInjector:
    """The faults waiting to be applied, first injected first served; randomness is seeded for repeatability."""

    seed: int = 0
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _released: threading.Event = field(default_factory=threading.Event, repr=False)
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # reproducible test faults, not cryptography  # noqa: S311  # nosec B311

    def inject(
        self,
        status: int | None = None,
        *,
        count: int | None = 1,
        fraction: float | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        timeout: bool = False,
        drop: bool = False,
        path_prefix: str | None = None,
    ) -> Fault:
        """Apply a fault to the next ``count`` matching requests (None: until cleared).

        With ``fraction``, each matching request is hit with that probability (seeded) and only hits count.
        ``headers`` replaces the answer's extra headers; for a 429 the default is PagerDuty's rate-limit
        headers, so ``headers={}`` gives a bare 429. ``delay`` is added before the answer (or before the
        injected status). ``timeout`` holds the connection unanswered until the client gives up (or the
        faults are cleared); ``drop`` closes it without a response.
        """
        fault = Fault(
            status=status,
            remaining=count,
            fraction=fraction,
            headers=dict(headers) if headers is not None else None,
            delay=delay,
            timeout=timeout,
            drop=drop,
            path_prefix=path_prefix,
        )
        self.add(fault)
        return fault

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._released.clear()
            self._faults.append(fault)

    def clear(self) -> None:
        """Remove every pending fault and release connections held by timeout faults."""
        with self._lock:
            self._faults.clear()
            self._released.set()

    def reseed(self) -> None:
        with self._lock:
            self._random.seed(self.seed)

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, path: str) -> Fault | None:
        """The fault this request gets, if any, consuming one of its uses."""
        with self._lock:
            for fault in self._faults:
                if fault.path_prefix is not None and not path.startswith(fault.path_prefix):
                    continue
                if fault.fraction is not None and self._random.random() >= fault.fraction:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
            return None

    def hold(self, seconds: float) -> None:
        """Block a timed-out request for ``seconds``, or until the faults are cleared."""
        self._released.wait(seconds)
