"""Configuration documents the library reads: routing rules (``routing_rules``), validated at cold start with
errors that name the exact place, and the YAML reader they share (``yaml_document``, imported only for YAML)."""

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

__all__ = [
    "DEFAULT_ROUTING_KEY_NAME",
    "DEFAULT_RULE",
    "UNROUTABLE_RULE",
    "RouteDecision",
    "RoutingDocument",
    "RoutingRules",
    "Rule",
    "RuleMatch",
]
