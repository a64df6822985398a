"""The forwarder's planner: map a message to alerts, route each alert, resolve its routing key.

Routing rules name routing keys; the keys themselves are read from the ROUTING_KEYS secret (a JSON object
``{name: integration key}``) through ``pagerduty_utils.secrets``, cached per container. An alert whose rule
names no key, or a name missing from the secret, is *unroutable*: the message is dead-lettered with that
reason and can be redriven once the rules or the secret are fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from pagerduty_utils.alert_forwarder.batch import Plan
from pagerduty_utils.alert_forwarder.intake import ChannelTrust
from pagerduty_utils.config_parser import RoutingRules
from pagerduty_utils.data_transformer import TransformOptions, grouped, normalize, to_alert_event, to_change_event
from pagerduty_utils.exceptions import ConfigurationError
from pagerduty_utils.observability import logger
from pagerduty_utils.secrets import get_secret_json

RoutingKeys = Callable[[], Mapping[str, str]]


class RoutingPlanner:
    """``Planner`` for the forwarder: ``normalize`` -> ``RoutingRules.route`` -> ``to_alert_event`` (or
    ``to_change_event`` for a change: a deployment or stack update, or anything a rule's ``send_as`` names).

    ``channels`` decides whether the message's channel proves the AWS source it claims; when it does not,
    ``normalize`` maps the message as a custom alert of that channel.
    """

    def __init__(
        self,
        rules: RoutingRules,
        routing_keys: RoutingKeys,
        options: TransformOptions,
        channels: ChannelTrust | None = None,
    ) -> None:
        self._rules = rules
        self._routing_keys = routing_keys
        self._options = options
        self._channels = channels or ChannelTrust()

    def plan(self, content: str | Mapping[str, Any]) -> Plan:
        events = []
        changes = []
        dropped = 0
        unroutable: list[str] = []
        channel = self._channels.channel_of(content)
        options = self._options if channel.trusted else replace(self._options, unverified_channel=channel.name)
        for alert in normalize(content, options=options):
            decision = self._rules.route(alert)
            if decision.drop:
                dropped += 1
                logger.info("alert dropped by rule", extra={"dedup_key": alert.dedup_key, "rule": decision.rule})
                continue
            if decision.routing_key_name is None:
                unroutable.append(f"no routing rule matches {alert.source.value} alert {alert.name!r}")
                continue
            routing_key = self._routing_keys().get(decision.routing_key_name)
            if not routing_key:
                unroutable.append(f"routing key {decision.routing_key_name!r} is not in the routing keys secret")
                continue
            routed = grouped(alert, decision.group_by) if decision.group_by else alert
            if (decision.send_as or ("change" if routed.change else "alert")) == "change":
                changes.append(to_change_event(routed, routing_key=routing_key))
            else:
                events.append(to_alert_event(routed, routing_key=routing_key, severity=decision.severity))
        return Plan(events=tuple(events), changes=tuple(changes), dropped=dropped, unroutable=tuple(unroutable))


def secret_routing_keys(secret_id: str, *, max_age: int) -> RoutingKeys:
    """Routing keys from the JSON secret, fetched through the container cache on each call."""

    def read() -> Mapping[str, str]:
        value = get_secret_json(secret_id, max_age=max_age)
        if not isinstance(value, dict) or not all(
            isinstance(name, str) and isinstance(key, str) for name, key in value.items()
        ):
            raise ConfigurationError(f"secret {secret_id!r} must be a JSON object of routing key names to keys")
        return value

    return read
