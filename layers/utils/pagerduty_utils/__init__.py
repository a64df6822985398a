"""pagerduty_utils: the shared library behind the alert forwarder, webhook receiver and health checker.

Modules are imported on demand (``from pagerduty_utils.api_client import PagerDutyAPIClient``); this package
imports nothing itself so that each function pays at cold start only for what it uses.

Modules that moved into a function's package (docs/architecture.md) stay importable under their old names:
the first import of an old name loads the new module, registers it under both names and warns once.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

__version__ = "0.1.0"

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
