"""Scheduled health checker: probe every dependency at once, emit metrics, store the report, announce changes.

The work is ``pagerduty_utils.health_monitor``; this handler builds the monitor once per container from
``HealthSettings`` (in Lambda while the module is imported, see ``init_phase``; elsewhere on the first
invocation) and accepts a ready monitor from tests.
"""

from __future__ import annotations

from pagerduty_utils.init_phase import build_during_init, pause_collection

pause_collection()  # before the handler's imports: Init runs uncollected, see pagerduty_utils.init_phase

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pagerduty_utils.health_monitor.monitor import HealthMonitor
from pagerduty_utils.health_monitor.wiring import HealthDependencies, build_monitor
from pagerduty_utils.metrics_collector import metrics_collector
from pagerduty_utils.observability import logger, metrics, tracer
from pagerduty_utils.settings import HealthSettings, load_settings


@cache
def _default_monitor() -> HealthMonitor:
    return build_monitor(load_settings(HealthSettings), HealthDependencies(metrics=metrics_collector))


build_during_init(_default_monitor)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)  # the response holds the full health report
@metrics.log_metrics
def lambda_handler(
    _event: dict[str, Any], _context: LambdaContext, monitor: HealthMonitor | None = None
) -> dict[str, Any]:
    """Returns the report (what ``GET /health`` serves) and whether a status change was announced."""
    run = (monitor or _default_monitor()).run()
    logger.info(
        "health report",
        extra={"status": run.report.status.value, "problems": [check.model_dump() for check in run.report.problems]},
    )
    return {"report": run.report.model_dump(mode="json"), "announced": run.announced}
