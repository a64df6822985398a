"""Benchmark of routing rules against a catastrophic ``re:`` expression (a script, not a test).

An operator's ``re:(a+)+b`` meets an alarm name of n ``a`` and no ``b``. Python's backtracking ``re`` takes time
doubling with every character (about a minute at n = 29); the rules match ``re:`` expressions with RE2, linear
in n. The script times ``RoutingRules.route`` at n = 29 and at the longest name an alert can carry (1024), and
Python's ``re`` on the same expression for small n to show the growth it replaced. Target: every route well
under a millisecond.

    .venv/bin/python bench/bench_routing_regex.py [--runs 200] [--re-up-to 22] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from functools import partial

from pagerduty_utils.config_parser import RoutingRules
from pagerduty_utils.data_transformer import NormalizedAlert, normalize
from pdutils.testing.bench_report import Figure, emit
from pdutils.testing.forwarder import application_alert

CATASTROPHIC = "(a+)+b"
RULES = f'default: {{routing_key: ops}}\nrules: [{{match: {{name: ["re:{CATASTROPHIC}"]}}, routing_key: k}}]'
ROUTED_LENGTHS = (29, 1024)


def median_seconds(operation: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        operation()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def alert_named(name: str) -> NormalizedAlert:
    [alert] = normalize(application_alert("redos"))
    return alert.model_copy(update={"name": name})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="routes timed per name length")
    parser.add_argument("--re-up-to", type=int, default=22, help="longest name timed with Python's re")
    parser.add_argument("--quick", action="store_true", help="50 routes per length, Python's re up to 18")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for bench/run_all.py)")
    arguments = parser.parse_args()
    runs, re_up_to = (50, 18) if arguments.quick else (arguments.runs, arguments.re_up_to)

    rules = RoutingRules.from_text(RULES)
    backtracking = re.compile(CATASTROPHIC)
    name = "a" * re_up_to + "!"
    python_re = median_seconds(partial(backtracking.fullmatch, name), 1)
    figures = []
    for length in ROUTED_LENGTHS:
        alert = alert_named("a" * length + "!")
        assert rules.route(alert).rule == "default"
        seconds = median_seconds(partial(rules.route, alert), runs)
        figures.append(
            Figure(
                f"RoutingRules.route (RE2), re:{CATASTROPHIC} against a name of {length} characters",
                seconds * 1e6,
                "us",
                f"Python re, {re_up_to} characters",
                python_re * 1e6,
                "< 1 ms",
                seconds < 0.001,
            )
        )
    emit(figures, as_json=arguments.json)


if __name__ == "__main__":
    main()
