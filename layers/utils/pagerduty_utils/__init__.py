"""pagerduty_utils: the shared library behind the alert forwarder, webhook receiver and health checker.

Modules are imported on demand (``from pagerduty_utils.api_client import PagerDutyAPIClient``); this package
imports nothing itself so that each function pays at cold start only for what it uses.
"""

__version__ = "0.1.0"
