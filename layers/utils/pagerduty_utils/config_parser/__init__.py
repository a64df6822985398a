"""Configuration documents the library reads, validated with errors that name the exact place: routing rules
(``routing_rules``, at cold start) and the utils configuration file (``settings_file``, loaded on first use of
its names), with the interpolation (``interpolation``) and YAML reader (``yaml_document``) they share."""

from typing import TYPE_CHECKING

from pagerduty_utils import lazy_exports
from pagerduty_utils.config_parser.routing_rules import (
    DEFAULT_ROUTING_KEY_NAME,
    DEFAULT_RULE,
    UNROUTABLE_RULE,
    RouteDecision,
    RoutingDocument,
    RoutingRules,
    Rule,
    RuleMatch,
)

if TYPE_CHECKING:
    from pagerduty_utils.config_parser.settings_file import UtilsConfig, configure, load_utils_config, utils_config

# The configuration file's names load their module on first use: the forwarder's routing rules never need it.
__getattr__, __dir__ = lazy_exports(
    __name__, dict.fromkeys(("UtilsConfig", "configure", "load_utils_config", "utils_config"), "settings_file")
)

__all__ = [
    "DEFAULT_ROUTING_KEY_NAME",
    "DEFAULT_RULE",
    "UNROUTABLE_RULE",
    "RouteDecision",
    "RoutingDocument",
    "RoutingRules",
    "Rule",
    "RuleMatch",
    "UtilsConfig",
    "configure",
    "load_utils_config",
    "utils_config",
]
