"""Fault benchmark of the alert forwarder: PagerDuty outages on the whole local stack (a script, not a test).

Scenarios, each on a fresh local stack (``pdutils.testing.outage``: the project's template, the embedded AWS,
the PagerDuty simulator's fault injection, the forwarder fed by the local queue poller and its hold watch):

- a 1-minute and a 10-minute outage (every event answered 503);
- a 10-minute 429 storm (every event answered 429 with PagerDuty's rate-limit headers);
- 10 minutes of PagerDuty answering in 10 s (the client's read timeout is 10 s);
- a mixed run: 2 min of 503, 3 min of 429, 2 min of 10 s latency, 3 min of 30 % 503.

Each prints: alerts in = delivered + held + dead-lettered (with reasons), events PagerDuty accepted twice,
seconds from recovery to the last delivery, and the most receives of one alert in any hour. Times are stack
time on a clock ``--time-scale`` times faster (see the harness for what is and is not compressed).

    .venv/bin/python bench/bench_outage.py [--quick] [--time-scale 20] [--alerts 50] [--json]

``--quick``: the two outages only, 20 alerts, time scale 60. ``--json``: the figures for ``./dev bench``
(``pdutils.testing.bench_report``): per scenario, recovery to the last delivery against the 2-minute target, the
most receives of one alert in an hour against 12, and the alerts not accounted for as delivered or held.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from pdutils.testing.bench_report import Figure, emit
from pdutils.testing.outage import Fault, OutageReport, OutageScenario, Phase, run_outage

DOWN = Fault(503)
THROTTLED = Fault(429)
SLOW = Fault(status=None, delay=10.0)
FLAKY = Fault(503, fraction=0.3)


def scenarios(*, quick: bool, alerts: int, time_scale: float) -> list[OutageScenario]:
    def scenario(name: str, *phases: Phase) -> OutageScenario:
        return OutageScenario(name, phases, alerts=alerts, time_scale=time_scale)

    outages = [scenario("1 min outage (503)", Phase(1, DOWN)), scenario("10 min outage (503)", Phase(10, DOWN))]
    if quick:
        return outages
    return [
        *outages,
        scenario("10 min 429 storm", Phase(10, THROTTLED)),
        scenario("10 min at 10 s latency", Phase(10, SLOW)),
        scenario(
            "mixed 10 min (503, 429, 10 s latency, 30 % 503)",
            Phase(2, DOWN),
            Phase(3, THROTTLED),
            Phase(2, SLOW),
            Phase(3, FLAKY),
        ),
    ]


def markdown(reports: list[OutageReport]) -> str:
    lines = [
        "| scenario | in | delivered | held | dead-lettered (reasons) | duplicates | recovery: detection + drain "
        "| max receives per alert per hour |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(report.dead_lettered.items()))
        recovery = "-"
        if report.recovery_to_last_delivery is not None:
            recovery = f"{report.detection_seconds:.0f} s + {report.drain_seconds:.1f} s"
        lines.append(
            f"| {report.scenario} | {report.alerts_in} | {report.delivered} | {report.held} "
            f"| {report.dead_lettered.total()}{f' ({reasons})' if reasons else ''} | {report.duplicates} "
            f"| {recovery} | {report.max_receives_per_hour} |"
        )
    return "\n".join(lines)


RECOVERY_TARGET_SECONDS = 120.0
RECEIVES_PER_HOUR_TARGET = 12


def figures(report: OutageReport) -> list[Figure]:
    """The issue's targets for one scenario, as absolute figures (their peer is the target itself)."""
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(report.dead_lettered.items()))
    result = [
        Figure(
            f"{report.scenario}: max receives per alert per hour",
            report.max_receives_per_hour,
            "receives",
            target=f"<= {RECEIVES_PER_HOUR_TARGET}",
            met=report.max_receives_per_hour <= RECEIVES_PER_HOUR_TARGET,
        ),
        Figure(
            f"{report.scenario}: dead-lettered of {report.alerts_in}",
            report.dead_lettered.total(),
            "alerts",
            target="0",
            met=report.dead_lettered.total() == 0 and report.accounted,
            note=reasons or f"{report.delivered} delivered, {report.held} held, {report.duplicates} duplicates",
        ),
    ]
    recovery = report.recovery_to_last_delivery
    if recovery is not None:
        result.append(
            Figure(
                f"{report.scenario}: recovery to last delivery (detection + drain)",
                recovery,
                "s",
                target=f"<= {RECOVERY_TARGET_SECONDS:g} s",
                met=recovery <= RECOVERY_TARGET_SECONDS,
                note=f"{report.detection_seconds or 0:.0f} s stack time + {report.drain_seconds or 0:.1f} s",
            )
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="the two outages only, 20 alerts, time scale 60")
    parser.add_argument("--time-scale", type=float, default=20.0, help="how much faster the stack's clock runs")
    parser.add_argument("--alerts", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line, last")
    arguments = parser.parse_args(argv)
    time_scale = 60.0 if arguments.quick else arguments.time_scale
    alerts = 20 if arguments.quick else arguments.alerts
    print(
        f"bench_outage: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"load {os.getloadavg()[0]:.2f}, time scale {time_scale:g}, {alerts} alerts per scenario",
        flush=True,
    )
    reports = []
    for scenario in scenarios(quick=arguments.quick, alerts=alerts, time_scale=time_scale):
        report = run_outage(scenario)
        print(report.line(), flush=True)
        reports.append(report)
    print()
    print(markdown(reports), flush=True)
    if arguments.json:
        emit([figure for report in reports for figure in figures(report)], as_json=True)
    return 0 if all(report.accounted for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
