"""``pdutils demo``: bring the whole stack up locally and show an alert's life, then stop (what ``./dev run`` does).

1. a CloudWatch alarm goes ALARM: SNS -> SQS -> alert forwarder -> PagerDuty (the simulator): incident triggered;
2. PagerDuty's webhook reaches the receiver through the local API, and the incident event arrives on the bus;
3. the alarm goes OK: the incident is resolved, and that too reaches the bus;
4. the health checker runs on its schedule, and GET /health serves its report;
5. each function is invoked with each of its sample events (events/).
The functions get env.local.json beside the template unless --env-vars names another file.
Exits 0 when every step happened, 1 otherwise (each step says what was missing).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdutils.errors import CommandError
from pdutils.json_file import read_json_file
from pdutils.local import interrupt
from pdutils.local.cli_arguments import add_local_stack_arguments, parameter_overrides

if TYPE_CHECKING:
    from pdutils.local.local_stack import LocalStack

# The stack's logical ids: the demo tells the story of this project's template.yaml.
ALERT_TOPIC = "AlertTopic"
INCIDENT_BUS = "IncidentEventBus"
HEALTH_CHECKER = "HealthCheckerFunction"
STEP_TIMEOUT_SECONDS = 30.0
# Which function each sample event of events/ is for.
SAMPLE_EVENTS = {
    "sns_cloudwatch_alarm.json": "AlertForwarderFunction",
    "sns_cloudwatch_ok.json": "AlertForwarderFunction",
    "sqs_alert_batch.json": "AlertForwarderFunction",
    "eventbridge_alarm_state_change.json": "AlertForwarderFunction",
    "eventbridge_guardduty_finding.json": "AlertForwarderFunction",
    "eventbridge_securityhub_finding.json": "AlertForwarderFunction",
    "eventbridge_health_event.json": "AlertForwarderFunction",
    "eventbridge_custom_app_event.json": "AlertForwarderFunction",
    "apigateway_webhook.json": "WebhookReceiverFunction",
    "schedule.json": "HealthCheckerFunction",
    "apigateway_health.json": "WebhookReceiverFunction",
}
BUS_TAP_NAME = "pdutils-demo-bus-tap"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the stack locally and show an alert's life from CloudWatch to PagerDuty and back (./dev run)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events-dir", type=Path, help="sample events (default: events/ beside the template)")
    parser.add_argument("-v", "--verbose", action="store_true", help="stream the functions' logs to stderr")
    # Always the embedded AWS: on a real account the demo's alarm would page people, and the deployed forwarder
    # would compete with the local one for the queue.
    add_local_stack_arguments(parser, real_aws=False)
    parser.set_defaults(handler=run)


@dataclass
class Story:
    """Prints each step's outcome as it happens and remembers which steps failed."""

    failures: list[str] = field(default_factory=list)

    def chapter(self, title: str) -> None:
        interrupt.raise_if_stop_requested()
        print(f"\n== {title}", flush=True)

    def note(self, text: str) -> None:
        print(f"   {text}", flush=True)

    def step(self, title: str, outcome: str | None, *, missing: str) -> bool:
        if outcome is None:
            self.failures.append(title)
            print(f"   [FAILED] {title}: {missing}", flush=True)
            return False
        print(f"   [ok] {title}: {outcome}", flush=True)
        return True


def run(args: argparse.Namespace) -> int:
    # Deferred: the CLI imports every command at startup, and these pull in moto, boto3 and samtranslator.
    from pdutils.local import environment, local_stack  # noqa: PLC0415

    story = Story()
    template_dir = args.template.resolve().parent
    events_dir = args.events_dir or template_dir / "events"
    sample_events = _sample_events(events_dir)
    log_path = template_dir / ".aws-sam" / "pdutils-local" / "functions.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env_vars = environment.env_vars_for(args.env_vars, template_dir)
    print("pdutils demo: an alert's life on the local stack (embedded AWS + PagerDuty simulator, no Docker)")
    with log_path.open("w") as log_file:
        config = local_stack.LocalStackConfig(
            template_path=args.template,
            stack_name=args.stack_name,
            parameter_overrides=parameter_overrides(args.parameter_overrides),
            env_vars=env_vars,
            aws=args.aws,
            region=args.region,
            function_logs=sys.stderr if args.verbose else log_file,
            on_batch=lambda outcome: story.note(
                f"{outcome.function_id}: batch of {len(outcome.deleted) + len(outcome.kept)} record(s), "
                f"{len(outcome.deleted)} done, {len(outcome.kept)} left for retry"
            ),
        )
        story.chapter("Local stack")
        with local_stack.running_local_stack(config) as stack:
            local_stack.print_summary(stack)
            tell_the_story(stack, story, events_dir, sample_events)
    story.chapter("Result")
    if story.failures:
        story.note(f"{len(story.failures)} step(s) did not happen: {', '.join(story.failures)}")
    else:
        story.note("every step happened; the local stack is stopped")
    story.note(f"function logs: {log_path}")
    return 1 if story.failures else 0


def _sample_events(events_dir: Path) -> dict[str, Any]:
    """Every sample event the demo sends, read before anything starts: a missing or broken file stops it early."""
    if not events_dir.is_dir():
        raise CommandError(f"--events-dir {events_dir} is not a directory: point it at the sample events (events/)")
    return {name: read_json_file(events_dir / name, what="sample event") for name in SAMPLE_EVENTS}


def tell_the_story(stack: LocalStack, story: Story, events_dir: Path, sample_events: dict[str, Any]) -> None:
    from pdutils.local.demo_probes import DemoProbes  # noqa: PLC0415  # deferred with the rest of the command

    probes = DemoProbes(stack, timeout=STEP_TIMEOUT_SECONDS)
    bus_tap = probes.tap_bus(stack.stack.resources[INCIDENT_BUS].ref, BUS_TAP_NAME)
    topic_arn = stack.stack.resources[ALERT_TOPIC].ref
    for state, event_file in (("ALARM", "sns_cloudwatch_alarm.json"), ("OK", "sns_cloudwatch_ok.json")):
        notification = sample_events[event_file]["Records"][0]["Sns"]
        alarm_name = json.loads(notification["Message"])["AlarmName"]
        incident_status = "triggered" if state == "ALARM" else "resolved"
        story.chapter(f"CloudWatch alarm {alarm_name} -> {state}: SNS -> SQS -> alert forwarder -> PagerDuty")
        stack.target.client("sns").publish(
            TopicArn=topic_arn, Message=notification["Message"], Subject=notification["Subject"]
        )
        story.note(f"published the alarm notification to {topic_arn}")
        story.step(
            f"PagerDuty incident {incident_status}",
            probes.incident(alarm_name, incident_status),
            missing=f"no incident for {alarm_name} became {incident_status} within {STEP_TIMEOUT_SECONDS:.0f}s",
        )
        story.chapter(f"PagerDuty webhook incident.{incident_status} -> API -> webhook receiver -> EventBridge")
        story.step(
            f"webhook incident.{incident_status} accepted",
            probes.webhook_delivery(f"incident.{incident_status}"),
            missing="the receiver did not answer the simulator's delivery with a 2xx",
        )
        story.step(
            "incident event on the bus",
            probes.bus_event(bus_tap, incident_status),
            missing=f"no {incident_status} incident event reached {INCIDENT_BUS}",
        )
    story.chapter("Health checker (its schedule, fired now)")
    schedules = stack.schedules_of(HEALTH_CHECKER)
    story.step(
        "health checker run",
        probes.health_run(schedules[0]) if schedules else None,
        missing="the run failed or the stack is not healthy",
    )
    story.step("GET /health", probes.health_endpoint(), missing="the API did not serve a health report")
    story.chapter(f"Each function with its sample events ({events_dir})")
    story.note("(an alert state the forwarder already delivered above is not sent to PagerDuty again)")
    for event_file, function_id in SAMPLE_EVENTS.items():
        event = sample_events[event_file]
        story.step(
            f"{event_file} -> {function_id}",
            probes.sample_event(function_id, event),
            missing="the function failed or answered with an error (see the function logs)",
        )
