from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pagerduty_utils.config_parser import RouteDecision, RoutingRules
from pagerduty_utils.data_transformer import NormalizedAlert, normalize
from pagerduty_utils.exceptions import ConfigurationError
from pagerduty_utils.pagerduty_events import Severity
from pagerduty_utils.settings import ForwarderSettings, load_settings
from tests.unit.fixtures.alert_events import REPO_ROOT, eventbridge_event, load_event, securityhub_event

EXAMPLE_RULES = REPO_ROOT / "examples" / "routing_rules.yaml"


def alert_from(event: dict[str, object]) -> NormalizedAlert:
    (alert,) = normalize(event)
    return alert


@pytest.fixture
def guardduty_alert() -> NormalizedAlert:
    return alert_from(load_event("eventbridge_guardduty_finding.json"))


@pytest.fixture
def alarm_alert() -> NormalizedAlert:
    return alert_from(load_event("eventbridge_alarm_state_change.json"))


def rules(text: str, **environ: str) -> RoutingRules:
    return RoutingRules.from_text(text, environ=environ)


def forwarder_settings(**variables: str) -> ForwarderSettings:
    return load_settings(
        ForwarderSettings, {"STATE_TABLE_NAME": "state", "ROUTING_KEYS_SECRET_ID": "keys", **variables}
    )


# --- the example file --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "decision"),
    [
        (load_event("eventbridge_alarm_state_change.json"), ("databases", "databases", None, False)),
        (load_event("eventbridge_guardduty_finding.json"), ("security", "security", Severity.ERROR, False)),
        (
            eventbridge_event("eventbridge_guardduty_finding.json", severity=9.5),
            ("security-critical", "security", None, False),
        ),
        (
            securityhub_event({"Severity": {"Label": "INFORMATIONAL"}}),
            ("drop-informational-security-hub", None, None, True),
        ),
        (load_event("eventbridge_health_event.json"), ("default", "ops", None, False)),
        (load_event("eventbridge_custom_app_event.json"), ("default", "ops", None, False)),
    ],
    ids=["database-alarm", "guardduty-high", "guardduty-critical", "securityhub-info", "health", "custom"],
)
def test_the_example_rules_route_the_sample_events(event: dict[str, object], decision: tuple[object, ...]) -> None:
    routing = RoutingRules.from_text(EXAMPLE_RULES.read_text(), environ={})
    routed = routing.route(alert_from(event))
    assert (routed.rule, routed.routing_key_name, routed.severity, routed.drop) == decision


def test_the_example_rules_interpolate_the_payments_account() -> None:
    routing = RoutingRules.from_text(EXAMPLE_RULES.read_text(), environ={"PAYMENTS_ACCOUNT_ID": "123456789012"})
    event = eventbridge_event("eventbridge_custom_app_event.json", tags={"team": "payments"})
    event["region"] = "eu-west-1"
    assert routing.route(alert_from(event)).rule == "payments-production"
    assert routing.routing_key_names == {"ops", "security", "payments", "databases"}


# --- matching ----------------------------------------------------------------------------------------------------


def test_the_first_matching_rule_wins(guardduty_alert: NormalizedAlert) -> None:
    routing = rules(
        """
        rules:
          - {name: first, match: {source: guardduty}, routing_key: a}
          - {name: second, match: {source: guardduty}, routing_key: b}
        """
    )
    assert routing.route(guardduty_alert) == RouteDecision(
        rule="first", routing_key_name="a", severity=None, drop=False
    )


@pytest.mark.parametrize(
    ("criteria", "matches"),
    [
        ({"source": "guardduty"}, True),
        ({"source": ["health", "custom"]}, False),
        ({"account": ["1234*"]}, True),
        ({"account": ["999999999999"]}, False),
        ({"region": ["us-east-?"]}, True),
        ({"region": ["re:eu-.*"]}, False),
        ({"name": ["UnauthorizedAccess:*"]}, True),
        ({"name": ["re:Unauthorized"]}, False),
        ({"name": ["re:Unauthorized.*"]}, True),
        ({"severity": ["error", "critical"]}, True),
        ({"severity": "info"}, False),
        ({"tags": {"team": "plat*"}}, True),
        ({"tags": {"team": "plat*", "env": "*"}}, False),
        ({"source": "guardduty", "region": "eu-*"}, False),
    ],
)
def test_criteria(guardduty_alert: NormalizedAlert, criteria: dict[str, object], matches: bool) -> None:
    routing = rules(json.dumps({"rules": [{"name": "r", "match": criteria, "routing_key": "k"}]}))
    assert (routing.route(guardduty_alert).rule == "r") is matches


def test_patterns_are_case_sensitive(alarm_alert: NormalizedAlert) -> None:
    routing = rules('rules: [{match: {name: ["ORDERS-*"]}, routing_key: k}]')
    assert routing.route(alarm_alert).routing_key_name is None


def test_the_default_route_takes_what_no_rule_matched(alarm_alert: NormalizedAlert) -> None:
    routing = rules("default: {routing_key: ops, severity: warning}\nrules: [{match: {source: health}, drop: true}]")
    assert routing.route(alarm_alert) == RouteDecision(
        rule="default", routing_key_name="ops", severity=Severity.WARNING, drop=False
    )


def test_without_a_default_an_unmatched_alert_is_unroutable(alarm_alert: NormalizedAlert) -> None:
    routing = rules("rules: [{match: {source: health}, routing_key: ops}]")
    assert routing.route(alarm_alert) == RouteDecision(
        rule="unroutable", routing_key_name=None, severity=None, drop=False
    )


def test_a_rule_without_a_routing_key_uses_the_default_key(guardduty_alert: NormalizedAlert) -> None:
    routing = rules("default: {routing_key: ops}\nrules: [{match: {source: guardduty}, severity: critical}]")
    assert routing.route(guardduty_alert) == RouteDecision(
        rule="rules[0]", routing_key_name="ops", severity=Severity.CRITICAL, drop=False
    )


def test_a_drop_rule_drops(guardduty_alert: NormalizedAlert) -> None:
    decision = rules("default: {routing_key: ops}\nrules: [{name: quiet, drop: true}]").route(guardduty_alert)
    assert (decision.drop, decision.routing_key_name) == (True, None)


REDOS_RULES = 'default: {routing_key: ops}\nrules: [{match: {name: ["re:(a+)+b"]}, routing_key: k}]'


def test_a_catastrophic_expression_routes_a_crafted_name_at_once(alarm_alert: NormalizedAlert) -> None:
    """With Python's backtracking ``re`` this name took about a minute; bench/bench_routing_regex.py measures it."""
    crafted = alarm_alert.model_copy(update={"name": "a" * 29 + "!"})
    assert rules(REDOS_RULES).route(crafted).rule == "default"
    assert rules(REDOS_RULES).route(alarm_alert.model_copy(update={"name": "aaab"})).routing_key_name == "k"


def test_globs_and_expressions_mix_in_one_criterion(alarm_alert: NormalizedAlert) -> None:
    routing = rules('rules: [{match: {name: ["checkout-*", "re:orders-db-(replica|primary)-lag"]}, routing_key: k}]')
    assert routing.route(alarm_alert).routing_key_name == "k"
    assert routing.route(alarm_alert.model_copy(update={"name": "checkout-api"})).routing_key_name == "k"


# --- interpolation -----------------------------------------------------------------------------------------------


def test_environment_variables_are_interpolated_in_values(guardduty_alert: NormalizedAlert) -> None:
    text = 'default: {routing_key: "${TEAM}-${SUFFIX:-oncall}"}'
    assert rules(text, TEAM="sec").route(guardduty_alert).routing_key_name == "sec-oncall"
    assert rules(text, TEAM="sec", SUFFIX="day").route(guardduty_alert).routing_key_name == "sec-day"


def test_a_variable_value_cannot_change_the_documents_structure(guardduty_alert: NormalizedAlert) -> None:
    routing = rules('rules: [{match: {name: ["${PATTERN}"]}, routing_key: k}]', PATTERN="x\n  drop: true")
    assert routing.route(guardduty_alert).routing_key_name is None


def test_double_dollar_is_a_literal_dollar() -> None:
    routing = rules('rules: [{match: {name: ["cost-$${X}"]}, routing_key: k}]')
    alert = alert_from(eventbridge_event("eventbridge_custom_app_event.json", summary="cost-${X}"))
    assert routing.route(alert).routing_key_name == "k"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'rules: [{match: {region: ["${REGION}"]}, routing_key: k}]',
            "rules[0].match.region[0]: environment variable REGION is not set",
        ),
        ('default: {routing_key: "${1BAD}"}', "default.routing_key: malformed reference '${1BAD}'"),
    ],
)
def test_interpolation_errors_name_the_place(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        rules(text)


# --- validation --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules: [{match: {sources: [guardduty]}, routing_key: k}]",
            "rules[0].match.sources: Extra inputs are not permitted",
        ),
        (
            "rules: [{match: {source: [gaurdduty]}, routing_key: k}]",
            "rules[0].match.source[0]: Input should be 'cloudwatch_alarm'",
        ),
        ("rules: [{match: {account: [123456789012]}, routing_key: k}]", "rules[0].match.account: quote account ids"),
        (
            'rules: [{match: {name: ["re:(unclosed"]}, routing_key: k}]',
            "rules[0].match.name[0]: invalid regular expression",
        ),
        (
            r'rules: [{match: {name: ["re:(a)\\1"]}, routing_key: k}]',
            "rules[0].match.name[0]: invalid regular expression 're:(a)\\\\1' (RE2 syntax): invalid escape",
        ),
        ('rules: [{match: {name: ["[abc"]}, routing_key: k}]', "rules[0].match.name[0]: invalid glob '[abc'"),
        ("rules: [{routing_key: k, severity: high}]", "rules[0].severity: Input should be 'critical'"),
        (
            "rules: [{match: {tags: {1: x}}, routing_key: k}]",
            "rules[0].match.tags[1][key]: Input should be a valid string",
        ),
        (
            "rules: [{drop: true, routing_key: k}]",
            "rules[0]: a drop rule cannot also set routing_key, severity, group_by or send_as",
        ),
        ("rules: [{match: {source: health}}]", "rules[0] has no routing_key and there is no default route"),
        ("rules: [{name: a, routing_key: k}, {name: a, routing_key: k}]", "rule names must be unique: a"),
        ("default: {routing_key: 'has space'}", "default.routing_key: String should match pattern"),
        ("default: {routing_key: e93facc04764012d7bfb002500d5d1a6}", "looks like an integration key itself"),
        ("version: 2", "version: Input should be less than or equal to 1"),
        ("- just\n- a list", "the document must be a mapping"),
        ("rules: [unclosed", "invalid YAML"),
        ('{"rules": [}', "invalid JSON"),
        ("base: &base {routing_key: k}\ndefault: *base", "line 2: YAML aliases are not supported"),
    ],
)
def test_invalid_documents_are_rejected_with_a_precise_message(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        rules(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="[]{}:-, \n\t\"'$&*!#|>ab1", max_size=200))
def test_any_text_is_either_rules_or_a_configuration_error(text: str) -> None:
    with contextlib.suppress(ConfigurationError):
        RoutingRules.from_text(text, environ={})


@pytest.mark.parametrize("text", ["[" * 5000, "a: " + "[" * 5000, "- " * 3000 + "x", '{"a":' * 5000])
def test_deeply_nested_documents_are_configuration_errors(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"nests too deeply|invalid"):
        rules(text)


def test_an_empty_document_routes_nothing(guardduty_alert: NormalizedAlert) -> None:
    assert rules("").route(guardduty_alert).routing_key_name is None


def test_an_oversized_document_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="larger than"):
        rules("#" * (256 * 1024 + 1))


# --- settings ----------------------------------------------------------------------------------------------------


def test_rules_come_from_the_inline_setting(guardduty_alert: NormalizedAlert) -> None:
    routing = RoutingRules.from_settings(forwarder_settings(ROUTING_RULES="default: {routing_key: inline}"))
    assert routing.route(guardduty_alert).routing_key_name == "inline"


def test_rules_come_from_the_file_setting(tmp_path: Path, guardduty_alert: NormalizedAlert) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("default: {routing_key: '${KEY_NAME}'}")
    routing = RoutingRules.from_settings(forwarder_settings(ROUTING_RULES_FILE=str(path)), environ={"KEY_NAME": "file"})
    assert routing.route(guardduty_alert).routing_key_name == "file"


def test_without_rules_everything_goes_to_the_default_key(guardduty_alert: NormalizedAlert) -> None:
    routing = RoutingRules.from_settings(forwarder_settings())
    assert routing.route(guardduty_alert).routing_key_name == "default"


def test_a_missing_rules_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ROUTING_RULES_FILE: cannot read"):
        RoutingRules.from_settings(forwarder_settings(ROUTING_RULES_FILE=str(tmp_path / "absent.yaml")))


def test_inline_rules_and_a_rules_file_together_are_ambiguous(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        RoutingRules.from_settings(forwarder_settings(ROUTING_RULES="rules: []", ROUTING_RULES_FILE="x.yaml"))
