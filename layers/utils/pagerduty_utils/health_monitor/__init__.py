"""health_monitor: is the path from AWS to PagerDuty (and back) working right now?

``checks`` probe one dependency each; ``runner`` runs them concurrently under one deadline; ``report`` is the
result; ``snapshot`` stores it for ``GET /health``; ``operations`` tells people when the status changes;
``monitor`` ties one run together and ``wiring`` builds it all from ``HealthSettings``.
"""

from typing import TYPE_CHECKING

from pagerduty_utils import lazy_exports

if TYPE_CHECKING:
    from pagerduty_utils.health_monitor.monitor import HealthMonitor
    from pagerduty_utils.health_monitor.report import HealthReport, HealthStatus
    from pagerduty_utils.health_monitor.runner import HealthCheck

# The main names load their submodule on first use; the package itself imports nothing.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {"HealthMonitor": "monitor", "HealthReport": "report", "HealthStatus": "report", "HealthCheck": "runner"},
)
__all__ = ["HealthCheck", "HealthMonitor", "HealthReport", "HealthStatus"]
