"""The package's exports: every README module's names importable, nothing imported until a name is used, and the
handlers' cold start untouched by the modules only the README's users need."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import pagerduty_utils
from pdutils.testing.lambda_environments import HANDLER_ENVIRONMENTS, HandlerEnvironment

REPOSITORY = Path(__file__).resolve().parents[2]

# Every module of the utils README, with one of its main names.
README_MODULES = {
    "api_client": "PagerDutyAPIClient",
    "encryption": "SecurityManager",
    "formatters": "compose_summary",
    "validators": "sanitize_json",
    "cache_manager": "CacheManager",
    "circuit_breaker": "CircuitBreaker",
    "rate_limiter": "RateLimiter",
    "metrics_collector": "MetricsCollector",
    "config_parser": "UtilsConfig",
    "data_transformer": "normalize",
    "notification_builder": "render_slack",
    "webhook_processor": "WebhookProcessor",
    "audit_logger": "AuditLogger",
    "error_handler": "problem_for",
    "health_monitor": "HealthMonitor",
}
# What only the README's users load: the handlers never import these.
README_ONLY_MODULES = (
    "pagerduty_utils.config_parser.settings_file",
    "pagerduty_utils.circuit_breaker_decorator",
    "pagerduty_utils.prometheus",
    "redis",
)


def loaded_modules(program: str, env: dict[str, str] | None = None) -> list[str]:
    """The modules a fresh interpreter has loaded after ``program``."""
    completed = subprocess.run(
        [sys.executable, "-c", f"{program}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_package_imports_none_of_its_modules() -> None:
    loaded = loaded_modules("import pagerduty_utils")
    assert "pagerduty_utils" in loaded
    assert [name for name in loaded if name.startswith("pagerduty_utils.")] == []


def test_using_a_name_imports_only_its_module() -> None:
    loaded = loaded_modules("from pagerduty_utils import CircuitOpenError")
    assert "pagerduty_utils.circuit_breaker" in loaded
    assert "pagerduty_utils.encryption" not in loaded
    assert "pagerduty_utils.api_client" not in loaded


@pytest.mark.parametrize("name", sorted(pagerduty_utils.EXPORTS))
def test_each_export_is_its_module_attribute(name: str) -> None:
    module = importlib.import_module(f"pagerduty_utils.{pagerduty_utils.EXPORTS[name]}")
    assert getattr(pagerduty_utils, name) is getattr(module, name)


def test_all_lists_every_export_and_dir_shows_them() -> None:
    assert sorted(pagerduty_utils.__all__) == sorted(pagerduty_utils.EXPORTS)
    assert set(pagerduty_utils.EXPORTS) <= set(dir(pagerduty_utils))


def test_an_unknown_name_is_an_attribute_error_and_submodules_still_import() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        _ = pagerduty_utils.NoSuchThing
    from pagerduty_utils import cache_manager  # noqa: PLC0415  # a submodule, not an export

    assert cache_manager.__name__ == "pagerduty_utils.cache_manager"


@pytest.mark.parametrize(("module", "name"), sorted(README_MODULES.items()))
def test_every_readme_module_exports_its_main_name(module: str, name: str) -> None:
    assert getattr(importlib.import_module(f"pagerduty_utils.{module}"), name) is not None


def modules_after_init(handler: HandlerEnvironment) -> list[str]:
    """The modules loaded once ``handler``'s Init (importing its app in Lambda's environment) is done."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "POWERTOOLS_"))}
    path = os.pathsep.join(
        [str(REPOSITORY / "functions" / handler.name), str(REPOSITORY / "layers" / "utils"), *sys.path[1:]]
    )
    return loaded_modules("import app", {**inherited, **handler.variables(in_lambda=True), "PYTHONPATH": path})


@pytest.mark.parametrize("handler", HANDLER_ENVIRONMENTS, ids=lambda handler: handler.name)
def test_handlers_never_load_the_readme_only_modules(handler: HandlerEnvironment) -> None:
    loaded = modules_after_init(handler)
    assert "app" in loaded
    assert [name for name in README_ONLY_MODULES if name in loaded] == []


# Every source family but CloudWatch alarms is mapped by a module loaded with the family's first event.
ON_DEMAND_MAPPINGS = tuple(
    f"pagerduty_utils.data_transformer.{module}"
    for module in ("findings", "health", "messages", "workflows", "deployments", "infrastructure", "security")
)


def test_the_forwarder_loads_no_source_mapping_but_the_alarms_at_init() -> None:
    forwarder = next(handler for handler in HANDLER_ENVIRONMENTS if handler.name == "alert_forwarder")
    loaded = modules_after_init(forwarder)

    assert "pagerduty_utils.data_transformer.alarms" in loaded
    assert [name for name in ON_DEMAND_MAPPINGS if name in loaded] == []
    assert "re2" not in loaded  # its rules have no re: pattern


def test_the_first_re_rule_loads_re2() -> None:
    loaded = loaded_modules(
        "from pagerduty_utils.config_parser import RoutingRules\n"
        'RoutingRules.from_text(\'{"rules": [{"match": {"name": ["re:^db-"]}, "routing_key": "db"}]}\')'
    )

    assert "re2" in loaded


@pytest.mark.parametrize(
    "name", ["HEALTH_SEVERITY", "SECURITY_HUB_SEVERITY", "guardduty_severity", "securityhub_action"]
)
def test_the_transformer_names_of_on_demand_families_still_import(name: str) -> None:
    from pagerduty_utils import data_transformer  # noqa: PLC0415  # the package, for its lazy names

    assert getattr(data_transformer, name) is not None
    assert name in dir(data_transformer)
