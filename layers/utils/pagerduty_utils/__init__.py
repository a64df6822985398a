"""pagerduty_utils: the shared library behind the alert forwarder, webhook receiver and health checker.

Each module's main names are exported here (``from pagerduty_utils import PagerDutyAPIClient, SecurityManager``)
and from their module (``from pagerduty_utils.api_client import PagerDutyAPIClient``). This package imports
nothing itself: an exported name loads its module on first use (PEP 562, ``EXPORTS``), so each function pays at
cold start only for what it uses.

Modules that moved into a function's package (docs/architecture.md) stay importable under their old names:
the first import of an old name loads the new module, registers it under both names and warns once.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pagerduty_utils.api_client import (
        AsyncEventsClient,
        EventsClient,
        PagerDutyAPIClient,
        PagerDutyAPIClientSync,
        PagerDutyAPIError,
        RetryPolicy,
    )
    from pagerduty_utils.audit_logger import AuditLogger
    from pagerduty_utils.cache_manager import CacheManager
    from pagerduty_utils.circuit_breaker import Circuit, CircuitOpenError
    from pagerduty_utils.circuit_breaker_decorator import CircuitBreaker
    from pagerduty_utils.config_parser import RoutingRules
    from pagerduty_utils.config_parser.settings_file import UtilsConfig, configure, load_utils_config, utils_config
    from pagerduty_utils.data_transformer import NormalizedAlert, normalize
    from pagerduty_utils.encryption import EnvelopeEncryptor, SecurityManager
    from pagerduty_utils.error_handler import problem_for
    from pagerduty_utils.exceptions import (
        ConfigurationError,
        DependencyError,
        PagerDutyUtilsError,
        RetryableError,
        ValidationError,
    )
    from pagerduty_utils.formatters import clean_details, compose_summary
    from pagerduty_utils.health_monitor.monitor import HealthMonitor
    from pagerduty_utils.jwt_tokens import TokenAuthority, TokenPolicy
    from pagerduty_utils.metrics_collector import MetricsCollector
    from pagerduty_utils.notification_builder import (
        notification_for_alert,
        notification_for_incident,
        render_email,
        render_slack,
        render_teams,
    )
    from pagerduty_utils.pagerduty_events import AlertEvent
    from pagerduty_utils.rate_limiter import RateLimiter
    from pagerduty_utils.validators import safe_url, sanitize_json
    from pagerduty_utils.webhook_processor.processing import WebhookProcessor

__version__ = "0.1.0"

# Exported name -> the module it lives in (relative to this package).
EXPORTS = {
    "PagerDutyAPIClient": "api_client",
    "PagerDutyAPIClientSync": "api_client",
    "EventsClient": "api_client",
    "AsyncEventsClient": "api_client",
    "PagerDutyAPIError": "api_client",
    "RetryPolicy": "api_client",
    "SecurityManager": "encryption",
    "EnvelopeEncryptor": "encryption",
    "CircuitBreaker": "circuit_breaker_decorator",
    "Circuit": "circuit_breaker",
    "CircuitOpenError": "circuit_breaker",
    "CacheManager": "cache_manager",
    "RateLimiter": "rate_limiter",
    "MetricsCollector": "metrics_collector",
    "RoutingRules": "config_parser",
    "UtilsConfig": "config_parser.settings_file",
    "configure": "config_parser.settings_file",
    "load_utils_config": "config_parser.settings_file",
    "utils_config": "config_parser.settings_file",
    "normalize": "data_transformer",
    "NormalizedAlert": "data_transformer",
    "notification_for_alert": "notification_builder",
    "notification_for_incident": "notification_builder",
    "render_slack": "notification_builder",
    "render_teams": "notification_builder",
    "render_email": "notification_builder",
    "WebhookProcessor": "webhook_processor.processing",
    "HealthMonitor": "health_monitor.monitor",
    "AuditLogger": "audit_logger",
    "problem_for": "error_handler",
    "sanitize_json": "validators",
    "safe_url": "validators",
    "compose_summary": "formatters",
    "clean_details": "formatters",
    "PagerDutyUtilsError": "exceptions",
    "ConfigurationError": "exceptions",
    "ValidationError": "exceptions",
    "RetryableError": "exceptions",
    "DependencyError": "exceptions",
    "TokenAuthority": "jwt_tokens",
    "TokenPolicy": "jwt_tokens",
    "AlertEvent": "pagerduty_events",
}
__all__ = [
    "AlertEvent",
    "AsyncEventsClient",
    "AuditLogger",
    "CacheManager",
    "Circuit",
    "CircuitBreaker",
    "CircuitOpenError",
    "ConfigurationError",
    "DependencyError",
    "EnvelopeEncryptor",
    "EventsClient",
    "HealthMonitor",
    "MetricsCollector",
    "NormalizedAlert",
    "PagerDutyAPIClient",
    "PagerDutyAPIClientSync",
    "PagerDutyAPIError",
    "PagerDutyUtilsError",
    "RateLimiter",
    "RetryPolicy",
    "RetryableError",
    "RoutingRules",
    "SecurityManager",
    "TokenAuthority",
    "TokenPolicy",
    "UtilsConfig",
    "ValidationError",
    "WebhookProcessor",
    "clean_details",
    "compose_summary",
    "configure",
    "load_utils_config",
    "normalize",
    "notification_for_alert",
    "notification_for_incident",
    "problem_for",
    "render_email",
    "render_slack",
    "render_teams",
    "safe_url",
    "sanitize_json",
    "utils_config",
]


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's PEP 562 ``__getattr__`` and ``__dir__``: ``exports`` maps a name to its module (relative).

    A name is imported from its module on first use and then kept in the package's namespace.
    """
    namespace = sys.modules[package].__dict__

    def get_attribute(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def directory() -> list[str]:
        return sorted({*namespace, *exports})

    return get_attribute, directory


__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)

MOVED_MODULES = {
    "alert_batch": "alert_forwarder.batch",
    "alert_intake": "alert_forwarder.intake",
    "alert_forwarding": "alert_forwarder.forwarding",
    "alert_routing": "alert_forwarder.routing",
    "race_repair": "alert_forwarder.race_repair",
    "queue_backoff": "alert_forwarder.queue_backoff",
    "dead_letter": "alert_forwarder.dead_letter",
    "delivery_ledger": "alert_forwarder.delivery_ledger",
    "forwarder_wiring": "alert_forwarder.wiring",
    "incident_state": "webhook_processor.incident_state",
    "event_publisher": "webhook_processor.event_publisher",
    "alert_sources": "data_transformer.sources",
    "config_yaml": "config_parser.yaml_document",
    "webhook_processor.errors": "exceptions",
}


class _MovedModuleLoader(importlib.abc.Loader):
    def __init__(self, new_name: str) -> None:
        self.new_name = new_name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(f"{spec.name} moved to {self.new_name}", DeprecationWarning, stacklevel=2)
        return importlib.import_module(self.new_name)

    def exec_module(self, module: ModuleType) -> None:
        """The module was executed under its new name; nothing to run again."""


class _MovedModuleFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: object = None,  # noqa: ARG002  # the MetaPathFinder signature; moved names need no search path
        target: ModuleType | None = None,  # noqa: ARG002
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, relative = fullname.partition(".")
        if package != __name__:
            return None
        for old, new in MOVED_MODULES.items():
            if relative == old or relative.startswith(old + "."):
                new_name = f"{__name__}.{new}{relative.removeprefix(old)}"
                return importlib.machinery.ModuleSpec(fullname, _MovedModuleLoader(new_name))
        return None


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _MovedModuleFinder())
