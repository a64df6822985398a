"""PagerDuty outages on the whole local stack, on a compressed clock: what the tests and bench_outage share.

The stack is the project's template run by the local runtime (embedded AWS, PagerDuty simulator, the
forwarder's queue poller and its hold-watch schedule). Time is compressed by ``time_scale``: every duration
the forwarder's hold depends on is configured that many times shorter (the first hide, the longest hide,
the circuit's recovery time, the hold watch's rate, PagerDuty's injected latency and the client's timeouts)
and the rate budgets (the forwarder's, and the simulator's own per routing key) that many times larger, so a
10-minute outage takes 10 minutes / ``time_scale`` of real time. What is *not* compressed: SQS, DynamoDB and
PagerDuty round trips, the poller's batching window and the function's own run time.

Recovery is reported in two parts, so that the compression does not inflate what it does not compress:
*detection*, from PagerDuty answering again to its first accepted event (the hold watch's probe, or an alert),
in stack seconds; then *drain*, from there to the last alert delivered, in real seconds. Their sum is the
recovery time. Receives per alert per hour are counted in stack time.

alerts in = delivered + held (still queued) + dead-lettered (per reason); duplicates are events PagerDuty
accepted more than once for one alert.
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pagerduty_utils.alert_forwarder.dead_letter import REASON_ATTRIBUTE
from pagerduty_utils.alert_forwarder.hold_watch import PROBE_DEDUP_KEY
from pdutils.local.local_stack import LocalStack, LocalStackConfig, running_local_stack
from pdutils.local.poller import BatchOutcome
from pdutils.local.waiting import wait_for
from pdutils.testing.forwarder import application_alert

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
FORWARDER = "AlertForwarderFunction"
ENQUEUE_PATH = "/v2/enqueue"
_HOUR = 3600.0

# The forwarder's defaults, in stack seconds, compressed by the scenario's time scale.
_FIRST_HIDE = 30.0
_MAX_HIDE = 900.0
_CIRCUIT_RECOVERY = 45.0
_RATE_LIMIT_PER_MINUTE = 120
_CONNECT_TIMEOUT = 3.0
_READ_TIMEOUT = 10.0


@dataclass(frozen=True)
class Fault:
    """What the simulator does to Events API requests during (part of) the outage."""

    status: int | None = 503
    delay: float = 0.0  # stack seconds, compressed like the rest
    fraction: float | None = None


@dataclass(frozen=True)
class Phase:
    minutes: float
    fault: Fault


@dataclass(frozen=True)
class OutageScenario:
    name: str
    phases: tuple[Phase, ...]
    alerts: int = 50
    time_scale: float = 60.0
    # Stack time to wait after recovery for the last delivery before reporting what is still held.
    settle_minutes: float = 20.0

    @property
    def outage_minutes(self) -> float:
        return sum(phase.minutes for phase in self.phases)


@dataclass
class OutageReport:
    scenario: str
    alerts_in: int
    delivered: int
    held: int
    dead_lettered: Counter[str]
    duplicates: int
    detection_seconds: float | None  # stack seconds from recovery to PagerDuty's first accepted event
    drain_seconds: float | None  # real seconds from there to the last alert delivered
    max_receives_per_hour: int  # the most receives of one alert in any hour of stack time
    receives: dict[str, list[float]] = field(default_factory=dict)

    @property
    def recovery_to_last_delivery(self) -> float | None:
        if self.detection_seconds is None or self.drain_seconds is None:
            return None
        return self.detection_seconds + self.drain_seconds

    @property
    def accounted(self) -> bool:
        return self.alerts_in == self.delivered + self.held + self.dead_lettered.total()

    def line(self) -> str:
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.dead_lettered.items())) or "none"
        recovery = "-"
        if self.recovery_to_last_delivery is not None:
            recovery = (
                f"{self.recovery_to_last_delivery:.0f} s (detection {self.detection_seconds:.0f} s"
                f" + drain {self.drain_seconds:.1f} s)"
            )
        return (
            f"{self.scenario}: in {self.alerts_in} = delivered {self.delivered} + held {self.held} + "
            f"dead-lettered {self.dead_lettered.total()} ({reasons}); duplicates {self.duplicates}; "
            f"recovery to last delivery {recovery}; max receives per alert per hour {self.max_receives_per_hour}"
        )


def compressed_environment(time_scale: float) -> dict[str, str]:
    """The forwarder's settings for a clock ``time_scale`` times faster."""
    return {
        "HOLD_FIRST_HIDE_SECONDS": str(max(1, round(_FIRST_HIDE / time_scale))),
        "RETRY_MAX_BACKOFF_SECONDS": str(max(1, round(_MAX_HIDE / time_scale))),
        "RATE_LIMIT_PER_MINUTE": str(round(_RATE_LIMIT_PER_MINUTE * time_scale)),
        "PAGERDUTY_CONNECT_TIMEOUT_SECONDS": str(_CONNECT_TIMEOUT / time_scale),
        "PAGERDUTY_READ_TIMEOUT_SECONDS": str(_READ_TIMEOUT / time_scale),
    }


@dataclass
class _Receives:
    """Every batch the forwarder got: when (monotonic) each message was received."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def heard(self, outcome: BatchOutcome) -> None:
        now = time.monotonic()
        with self.lock:
            for message_id in (*outcome.deleted, *outcome.kept):
                self.times[message_id].append(now)


@contextmanager
def outage_stack(time_scale: float) -> Iterator[tuple[LocalStack, _Receives]]:
    receives = _Receives()
    config = LocalStackConfig(
        template_path=TEMPLATE,
        stack_name=f"outage-{uuid.uuid4().hex[:8]}",  # one embedded AWS per process: each run its own stack
        parameter_overrides={"CircuitRecoverySeconds": str(max(1, round(_CIRCUIT_RECOVERY / time_scale)))},
        env_vars={FORWARDER: compressed_environment(time_scale)},
        function_logs=io.StringIO(),
        on_batch=receives.heard,
        write_record=False,
        schedule_time_scale=time_scale,
    )
    with running_local_stack(config) as stack:
        stack.simulator.events_rate_limit = round(_RATE_LIMIT_PER_MINUTE * time_scale)
        # A warm container, as in a steady-state deployment: its Init is not part of any figure.
        stack.schedules_of(FORWARDER)[0].fire_now()
        yield stack, receives


def run_outage(scenario: OutageScenario, *, progress: Callable[[str], None] = lambda _: None) -> OutageReport:
    """Send the alerts into an outage, end it, and account for every alert."""
    with outage_stack(scenario.time_scale) as (stack, receives):
        sqs = stack.target.client("sqs")
        queue_url = stack.stack.resources["AlertQueue"].ref
        dead_letter_url = stack.stack.resources["AlertDeadLetterQueue"].ref
        faults = stack.simulator.simulator.faults
        pause = threading.Event()
        keys = [f"outage-{index}" for index in range(scenario.alerts)]
        for number, phase in enumerate(scenario.phases):
            faults.clear()
            faults.inject(
                phase.fault.status,
                count=None,
                fraction=phase.fault.fraction,
                delay=phase.fault.delay / scenario.time_scale,
                path_prefix=ENQUEUE_PATH,
            )
            if number == 0:
                _publish(sqs, queue_url, keys)
            progress(f"{scenario.name}: phase {number + 1} for {phase.minutes} min")
            pause.wait(phase.minutes * 60 / scenario.time_scale)
        faults.clear()
        recovered_at = time.time()
        progress(f"{scenario.name}: PagerDuty answers again")
        wait_for(
            lambda: True if _delivered(stack, keys) == set(keys) and _queued(sqs, queue_url) == 0 else None,
            timeout=scenario.settle_minutes * 60 / scenario.time_scale,
            interval=0.2,
        )
        accepted = _accepted(stack, keys)
        dead = Counter(_reason(letter) for letter in _drain(sqs, dead_letter_url))
        last = max((moment for _, moment in accepted), default=None)
        answering = _first_accepted_after(stack, recovered_at)
        per_alert = Counter(key for key, _ in accepted)
        return OutageReport(
            scenario=scenario.name,
            alerts_in=len(keys),
            delivered=len(per_alert),
            held=_queued(sqs, queue_url),
            dead_lettered=dead,
            duplicates=sum(count - 1 for count in per_alert.values()),
            detection_seconds=None if answering is None else (answering - recovered_at) * scenario.time_scale,
            drain_seconds=None if answering is None or last is None else max(0.0, last - answering),
            max_receives_per_hour=_max_per_hour(receives, scenario.time_scale),
            receives={message_id: list(times) for message_id, times in receives.times.items()},
        )


def _publish(sqs: SQSClient, queue_url: str, keys: list[str]) -> None:
    for start in range(0, len(keys), 10):
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "MessageBody": json.dumps(application_alert(key, second=start + index))}
            for index, key in enumerate(keys[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)


def _accepted(stack: LocalStack, keys: list[str]) -> list[tuple[str, float]]:
    """(dedup key, epoch seconds) of every event of ours PagerDuty accepted; the watch's probe left out."""
    wanted = set(keys)
    accepted = []
    for request in list(stack.simulator.simulator.state.requests):
        body = request.body if isinstance(request.body, dict) else {}
        key = body.get("dedup_key")
        if request.path == ENQUEUE_PATH and request.status == 202 and key in wanted and key != PROBE_DEDUP_KEY:
            accepted.append((str(key), datetime.fromisoformat(request.received_at).timestamp()))
    return accepted


def _first_accepted_after(stack: LocalStack, moment: float) -> float | None:
    """When PagerDuty first accepted an event (the probe's included) after ``moment``."""
    accepted = [
        datetime.fromisoformat(request.received_at).timestamp()
        for request in list(stack.simulator.simulator.state.requests)
        if request.path == ENQUEUE_PATH and request.status == 202
    ]
    return min((when for when in accepted if when >= moment), default=None)


def _delivered(stack: LocalStack, keys: list[str]) -> set[str]:
    return {key for key, _ in _accepted(stack, keys)}


def _queued(sqs: SQSClient, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _drain(sqs: SQSClient, queue_url: str) -> list[MessageTypeDef]:
    letters: list[MessageTypeDef] = []
    while batch := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=300
    ).get("Messages", []):
        letters.extend(batch)
    return letters


def _reason(letter: MessageTypeDef) -> str:
    attributes = letter.get("MessageAttributes") or {}
    if REASON_ATTRIBUTE not in attributes:
        return "queue redrive policy (no reason)"
    return attributes[REASON_ATTRIBUTE].get("StringValue") or "-"


def _max_per_hour(receives: _Receives, time_scale: float) -> int:
    """The most receives of one message within any hour of stack time (a sliding window over its receives)."""
    window = _HOUR / time_scale
    best = 0
    with receives.lock:
        for times in receives.times.values():
            for index, start in enumerate(times):
                best = max(best, sum(1 for moment in times[index:] if moment - start < window))
    return best
