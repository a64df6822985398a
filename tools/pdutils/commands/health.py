"""``pdutils health``: run the health checks once from a terminal and print what each one found.

The checks are the health checker function's own (``pagerduty_utils.health_monitor``), with its environment:
the template's ``HealthCheckerFunction`` variables resolved against the connected stack (a running
``pdutils start``, ``--endpoint-url``, or ``--aws real --stack-name``), then the ``--env-vars`` file on top.
With ``--no-template`` only the current environment and the ``--env-vars`` file are used. Nothing is stored
or announced: this is a look, not a run of the schedule. Exit status: 0 healthy, 1 degraded, 2 unhealthy
(and 2 when the checks cannot even start, e.g. a missing setting).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdutils.errors import CommandError, explain
from pdutils.local.cli_arguments import add_target_arguments, add_template_arguments

if TYPE_CHECKING:
    from pagerduty_utils.health_monitor.report import HealthReport
    from pagerduty_utils.metrics_collector import MetricsCollector

HEALTH_FUNCTION = "HealthCheckerFunction"
CANNOT_CHECK = 2
# No X-Ray daemon listens on a terminal.
TERMINAL_DEFAULTS = {"POWERTOOLS_TRACE_DISABLED": "true"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "health",
        help="run the health checks once and print a table (exit 0 healthy, 1 degraded, 2 unhealthy)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("-n", "--env-vars", type=Path, help="environment variables file in SAM's format")
    parser.add_argument("--function", default=HEALTH_FUNCTION, help="the health checker's logical id")
    parser.add_argument("--no-template", action="store_true", help="use only the current environment and --env-vars")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    add_template_arguments(parser)
    add_target_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        variables = _variables(args)
    except Exception as exc:  # 1 means degraded here: whatever stops the checks from starting exits 2
        raise CommandError(explain(exc).message, exit_status=CANNOT_CHECK) from exc
    with _process_environment(variables):
        report = _check(args.function)
    if report is None:
        return CANNOT_CHECK
    print(json.dumps(report.model_dump(mode="json"), indent=2) if args.json else render_table(report))
    return report.status.level


def _check(function: str) -> HealthReport | None:
    from pagerduty_utils.exceptions import ConfigurationError  # noqa: PLC0415
    from pagerduty_utils.health_monitor.report import HealthReport  # noqa: PLC0415
    from pagerduty_utils.health_monitor.runner import run_checks  # noqa: PLC0415
    from pagerduty_utils.health_monitor.wiring import HealthDependencies, build_checks  # noqa: PLC0415
    from pagerduty_utils.settings import HealthSettings, load_settings  # noqa: PLC0415

    try:
        settings = load_settings(HealthSettings)
    except ConfigurationError as exc:
        print(f"pdutils health: {exc} (environment of {function})", file=sys.stderr)
        return None
    checked_at = datetime.now(UTC)
    checks = build_checks(settings, HealthDependencies(metrics=_terminal_metrics()))
    results = run_checks(checks, timeout=settings.deadline_seconds)
    return HealthReport.from_results(results, checked_at=checked_at)


def _terminal_metrics() -> MetricsCollector:
    """A collector that writes nothing: EMF lines do not belong on a terminal. (The shared collector is left
    alone: it keeps the configuration it first reads, and a process importing this command may need it.)"""
    from pagerduty_utils.metrics_collector import MetricsCollector  # noqa: PLC0415

    class TerminalMetrics(MetricsCollector):
        @property
        def enabled(self) -> bool:
            return False

    return TerminalMetrics()


def render_table(report: HealthReport) -> str:
    """One line per check (name, status, latency, reason), then the overall status."""
    rows = [("CHECK", "STATUS", "LATENCY", "REASON")]
    rows += [(check.name, check.status.value, f"{check.latency_ms:.0f} ms", check.reason) for check in report.checks]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        f"{name:<{widths[0]}}  {status:<{widths[1]}}  {latency:>{widths[2]}}  {reason}"
        for name, status, latency, reason in rows
    ]
    slowest = max((check.latency_ms for check in report.checks), default=0.0)
    lines += ["", f"overall: {report.status.value.upper()} ({len(report.checks)} checks, slowest {slowest:.0f} ms)"]
    return "\n".join(lines)


def _variables(args: argparse.Namespace) -> dict[str, str]:
    from pdutils.local import connection, environment, template  # noqa: PLC0415
    from pdutils.local.target import AwsTarget  # noqa: PLC0415

    env_vars = environment.load_env_vars_file(args.env_vars) if args.env_vars else {}
    if not args.no_template:
        sam_template = template.SamTemplate.load(args.template)
        function = sam_template.function(args.function)
        stack = connection.connect(sam_template, args)
        declared = environment.function_environment(
            function, stack.resolver, stack.target, extras=stack.extras, env_vars=env_vars
        )
        return {**declared, **TERMINAL_DEFAULTS}
    target_variables: dict[str, str] = {}
    if args.aws == "real":
        target_variables = AwsTarget.real(args.region).environment
    elif args.endpoint_url:
        target_variables = AwsTarget.embedded(args.endpoint_url, args.region or "us-east-1").environment
    return {
        **env_vars.get(environment.ALL_FUNCTIONS_KEY, {}),
        **env_vars.get(args.function, {}),
        **target_variables,
        **TERMINAL_DEFAULTS,
    }


@contextmanager
def _process_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """``variables`` over the current environment for the checks (boto3 and Powertools read it), then back."""
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
