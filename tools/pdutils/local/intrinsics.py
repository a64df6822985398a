"""Resolve CloudFormation intrinsics (Ref, GetAtt, Sub, Join, If, Select, Split...) against known values.

Resources the resolver knows (from a running local stack, or a deployed one) resolve to what they are; the
others resolve to readable placeholders (``<LogicalId>`` for a Ref, ``<LogicalId.Attribute>`` for a GetAtt),
like ``sam local invoke`` does when it has no stack to look at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = "AWS::NoValue"
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class IntrinsicError(Exception):
    """An intrinsic that cannot be resolved (unknown parameter or condition, malformed arguments)."""


@dataclass(frozen=True)
class ResourceValues:
    """What ``Ref`` returns for a resource, and its ``Fn::GetAtt`` attributes."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


_REMOVED = object()


@dataclass(frozen=True)
class IntrinsicResolver:
    parameters: Mapping[str, str]
    resources: Mapping[str, ResourceValues]
    conditions: Mapping[str, Any] = field(default_factory=dict)
    region: str = "us-east-1"
    account_id: str = "123456789012"
    stack_name: str = "local"

    def resolve(self, value: Any) -> Any:
        """Return ``value`` with every intrinsic replaced; ``AWS::NoValue`` removes its key or list item."""
        resolved = self._resolve(value)
        return None if resolved is _REMOVED else resolved

    def resolve_string(self, value: Any) -> str:
        resolved = self.resolve(value)
        return resolved if isinstance(resolved, str) else str(resolved)

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self._resolve, value) if item is not _REMOVED]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            function = self._functions().get(name)
            if function is not None:
                return function(argument)
        return {key: item for key, item in ((k, self._resolve(v)) for k, v in value.items()) if item is not _REMOVED}

    def _functions(self) -> dict[str, Any]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::If": self._if,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::Equals": self._equals,
            "Fn::Not": lambda argument: not self._boolean(argument[0]),
            "Fn::And": lambda argument: all(self._boolean(item) for item in argument),
            "Fn::Or": lambda argument: any(self._boolean(item) for item in argument),
            "Condition": self.condition,
        }

    def _pseudo_parameters(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def _ref(self, name: Any) -> Any:
        if name == NO_VALUE:
            return _REMOVED
        if name in self.parameters:
            return self.parameters[name]
        pseudo = self._pseudo_parameters()
        if name in pseudo:
            return pseudo[name]
        known = self.resources.get(name)
        return known.ref if known else f"<{name}>"

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        known = self.resources.get(logical_id)
        if known and attribute in known.attributes:
            return known.attributes[attribute]
        return f"<{logical_id}.{attribute}>"

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        local_values = {name: self.resolve_string(value) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in local_values:
                return local_values[expression]
            if "." in expression and expression.split(".", 1)[0] in self.resources:
                return self._get_att(expression)
            return self.resolve_string({"Ref": expression})

        return _SUB_VARIABLE.sub(substitute, text)

    def _join(self, argument: Any) -> str:
        delimiter, items = argument
        return str(delimiter).join(self.resolve_string(item) for item in self.resolve(items))

    def _if(self, argument: Any) -> Any:
        condition_name, when_true, when_false = argument
        return self._resolve(when_true if self.condition(condition_name) else when_false)

    def _select(self, argument: Any) -> Any:
        index, items = argument
        return self.resolve(items)[int(self.resolve(index))]

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = argument
        return self.resolve_string(text).split(delimiter)

    def _equals(self, argument: Any) -> bool:
        left, right = (self.resolve(item) for item in argument)
        return bool(str(left) == str(right))

    def _boolean(self, value: Any) -> bool:
        resolved = self.resolve(value)
        if not isinstance(resolved, bool):
            raise IntrinsicError(f"expected a condition, got {value!r}")
        return resolved

    def condition(self, name: Any) -> bool:
        if name not in self.conditions:
            raise IntrinsicError(f"unknown condition {name!r}")
        return self._boolean(self.conditions[name])
