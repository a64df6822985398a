"""Fire a function's ``Schedule``/``ScheduleV2`` events locally.

``rate(N unit)`` schedules fire every N units (first after one interval, as in AWS), or ``time_scale`` times as
often: tests and benchmarks compress time (with ``time_scale=60`` a minute's schedule fires every second, to go
with timeouts and hides configured 60 times shorter). Cron expressions are
not evaluated locally: such a schedule only fires when asked (``fire_now``, or ``pdutils invoke`` with
events/schedule.json). The event is the one EventBridge sends (``Scheduled Event``), or the schedule's
``Input`` when it has one.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pdutils.local.runner import FunctionRunner, Invocation

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_SECONDS_PER_UNIT = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of a ``rate(...)`` expression; None for a cron expression."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _SECONDS_PER_UNIT[match.group(2).rstrip("s")]


@dataclass(frozen=True)
class ScheduleSource:
    name: str
    expression: str
    rule_arn: str
    input: str | None = None

    @classmethod
    def from_event_properties(cls, name: str, properties: Mapping[str, Any], rule_arn: str) -> ScheduleSource:
        """From a SAM ``Schedule`` or ``ScheduleV2`` event's properties, intrinsics already resolved."""
        expression = properties.get("Schedule") or properties.get("ScheduleExpression") or ""
        return cls(name=name, expression=str(expression), rule_arn=rule_arn, input=properties.get("Input"))

    def event(self, region: str, account_id: str) -> Any:
        if self.input is not None:
            return json.loads(self.input)
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": account_id,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": [self.rule_arn],
            "detail": {},
        }


class Scheduler:
    """Fires ``source`` into ``runner`` on its rate until ``stop()``; ``on_run`` hears every invocation."""

    def __init__(
        self,
        source: ScheduleSource,
        runner: FunctionRunner,
        *,
        region: str,
        account_id: str,
        on_run: Callable[[str, Invocation], None] | None = None,
        time_scale: float = 1.0,
    ) -> None:
        self.source = source
        self._time_scale = time_scale
        self.runner = runner
        self._region = region
        self._account_id = account_id
        self._on_run = on_run
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        interval = rate_seconds(self.source.expression)
        if interval is None:
            print(
                f"[{self.runner.function.logical_id}] schedule {self.source.expression!r} is not a rate(): "
                "it fires only on demand locally",
                file=sys.stderr,
            )
            return
        self._thread = threading.Thread(target=self._run, args=(interval / self._time_scale,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.runner.function.timeout_seconds + 5)

    def fire_now(self) -> Invocation:
        invocation = self.runner.invoke(self.source.event(self._region, self._account_id))
        if self._on_run is not None:
            self._on_run(self.runner.function.logical_id, invocation)
        return invocation

    def _run(self, interval: float) -> None:
        while not self._stopping.wait(interval):
            self.fire_now()
