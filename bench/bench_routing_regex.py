"""Benchmark of routing rules against a catastrophic ``re:`` expression (a script, not a test).

An operator's ``re:(a+)+b`` meets an alarm name of n ``a`` and no ``b``. Python's backtracking ``re`` takes time
doubling with every character (about a minute at n = 29); the rules match ``re:`` expressions with RE2, linear
in n. The script times ``RoutingRules.route`` at n = 29 and at the longest name an alert can carry (1024), and
Python's ``re`` on the same expression for small n to show the growth it replaced. Target: every route well
under a millisecond.

    .venv/bin/python bench/bench_routing_regex.py [--runs 200] [--re-up-to 22]
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import time
from collections.abc import Callable
from functools import partial

from pagerduty_utils.config_parser import RoutingRules
from pagerduty_utils.data_transformer import NormalizedAlert, normalize
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
    arguments = parser.parse_args()

    rules = RoutingRules.from_text(RULES)
    print(f"Python {platform.python_version()}, {platform.machine()}; expression {CATASTROPHIC!r}, no match")
    print("| engine | name length | median time |")
    print("|---|---|---|")
    for length in ROUTED_LENGTHS:
        alert = alert_named("a" * length + "!")
        assert rules.route(alert).rule == "default"
        seconds = median_seconds(partial(rules.route, alert), arguments.runs)
        print(f"| RoutingRules.route (RE2) | {length} | {seconds * 1e6:.1f} us |")
    backtracking = re.compile(CATASTROPHIC)
    for length in range(arguments.re_up_to - 4, arguments.re_up_to + 1, 2):
        name = "a" * length + "!"
        seconds = median_seconds(partial(backtracking.fullmatch, name), 1)
        print(f"| Python re | {length} | {seconds * 1e3:.1f} ms |")


if __name__ == "__main__":
    main()
