"""Routing rules: which routing key (by name) and severity each alert gets, or whether it is dropped.

The document (YAML or JSON, format in docs/routing-rules.md) is validated once, at cold start: unknown keys,
bad globs or regular expressions, unknown sources and unset environment variables are ``ConfigurationError``s
naming the exact place (``rules[2].match.region[0]``). ``${NAME}`` and ``${NAME:-default}`` are replaced in
string values after parsing, so a variable's value can never change the document's structure; ``$$`` is a
literal ``$``. Rules hold routing key *names*; the keys themselves live in the ROUTING_KEYS secret.

``re:`` expressions are RE2's (``google-re2``): matching takes time linear in the value whatever the expression,
so an operator's ``(a+)+$`` cannot stall the forwarder on a crafted alarm name, which Python's backtracking
``re`` would (see bench/bench_routing_regex.py). Globs go through fnmatch's translation, which cannot backtrack
catastrophically.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from pagerduty_utils.config_parser.interpolation import interpolate
from pagerduty_utils.data_transformer import AlertSource, NormalizedAlert
from pagerduty_utils.data_transformer.sources.base import describe_errors
from pagerduty_utils.exceptions import ConfigurationError
from pagerduty_utils.pagerduty_events import Severity
from pagerduty_utils.settings import ForwarderSettings

if TYPE_CHECKING:
    import re2

DEFAULT_RULE = "default"
UNROUTABLE_RULE = "unroutable"
DEFAULT_ROUTING_KEY_NAME = "default"  # used when no routing rules are configured at all
MAX_DOCUMENT_CHARS = 256 * 1024

_REGEX_PREFIX = "re:"
_DOCUMENT = "routing rules"


@cache
def _regex_options() -> re2.Options:
    import re2  # noqa: PLC0415  # loaded by the first re: rule: most rule sets have none

    options = re2.Options()
    options.log_errors = False  # a bad expression becomes a ConfigurationError; RE2 must not also print it
    return options


def _compile_regex(expression: str) -> _Matcher:
    import re2  # noqa: PLC0415  # see _regex_options

    try:
        return re2.compile(expression, _regex_options())
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(reason) from None


def _check_pattern(pattern: str) -> str:
    """A glob (fnmatch) or, with the ``re:`` prefix, an RE2 regular expression; both must compile."""
    if pattern.startswith(_REGEX_PREFIX):
        try:
            _compile_regex(pattern.removeprefix(_REGEX_PREFIX))
        except ValueError as exc:
            raise ValueError(f"invalid regular expression {pattern!r} (RE2 syntax): {exc}") from None
    elif pattern.count("[") != pattern.count("]"):
        raise ValueError(f"invalid glob {pattern!r}: unbalanced brackets")
    return pattern


def _check_routing_key_name(name: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9]{32}", name) and any(character.isdigit() for character in name):
        raise ValueError(
            "looks like an integration key itself; store keys in the ROUTING_KEYS secret and refer to them by name"
        )
    return name


Pattern = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_check_pattern)]
FieldPath = Annotated[str, Field(pattern=r"^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$", max_length=256)]
SendAs = Literal["alert", "change"]
RoutingKeyName = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$"), AfterValidator(_check_routing_key_name)
]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class RuleMatch(_Strict):
    """Criteria of a rule: all given criteria must hold; within a list, any pattern may match."""

    source: list[AlertSource] | None = Field(default=None, min_length=1)
    account: list[Pattern] | None = Field(default=None, min_length=1)
    region: list[Pattern] | None = Field(default=None, min_length=1)
    name: list[Pattern] | None = Field(default=None, min_length=1)
    severity: list[Severity] | None = Field(default=None, min_length=1)
    tags: dict[str, Pattern] | None = Field(default=None, min_length=1)

    @field_validator("source", "account", "region", "name", "severity", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("account", mode="before")
    @classmethod
    def _quoted_accounts(cls, value: Any) -> Any:
        if isinstance(value, list) and any(isinstance(item, int) for item in value):
            raise ValueError("quote account ids: YAML reads unquoted digits as a number and drops leading zeros")
        return value


class Rule(_Strict):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    match: RuleMatch = RuleMatch()
    routing_key: RoutingKeyName | None = None
    severity: Severity | None = None
    group_by: list[FieldPath] | None = Field(default=None, min_length=1, max_length=10)
    send_as: SendAs | None = None
    drop: bool = False

    @model_validator(mode="after")
    def _drop_excludes_routing(self) -> Rule:
        decisions = (self.routing_key, self.severity, self.group_by, self.send_as)
        if self.drop and any(decision is not None for decision in decisions):
            raise ValueError("a drop rule cannot also set routing_key, severity, group_by or send_as")
        return self


class DefaultRoute(_Strict):
    routing_key: RoutingKeyName
    severity: Severity | None = None


class RoutingDocument(_Strict):
    version: int = Field(default=1, ge=1, le=1)
    default: DefaultRoute | None = None
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> RoutingDocument:
        names = [rule.name for rule in self.rules if rule.name]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique: {', '.join(duplicates)}")
        if self.default is None:
            for index, rule in enumerate(self.rules):
                if not rule.drop and rule.routing_key is None:
                    raise ValueError(f"rules[{index}] has no routing_key and there is no default route")
        return self


class RouteDecision(BaseModel):
    """Where one alert goes: ``routing_key_name`` None with ``drop`` False means unroutable (dead-letter it)."""

    model_config = ConfigDict(frozen=True)

    rule: str
    routing_key_name: str | None
    severity: Severity | None
    drop: bool
    group_by: tuple[str, ...] = ()
    send_as: SendAs | None = None


class _CompiledRule:
    """A rule with its patterns compiled once, at load."""

    def __init__(self, rule: Rule, label: str, default: DefaultRoute | None) -> None:
        self.label = label
        self.drop = rule.drop
        self.routing_key_name = None if rule.drop else rule.routing_key or (default.routing_key if default else None)
        self.severity = rule.severity
        self.group_by = tuple(rule.group_by or ())
        self.send_as = rule.send_as
        match = rule.match
        self.sources = frozenset(match.source) if match.source else None
        self.severities = frozenset(match.severity) if match.severity else None
        self.account = _compile(match.account)
        self.region = _compile(match.region)
        self.name = _compile(match.name)
        self.tags = {key: _compile([pattern]) for key, pattern in (match.tags or {}).items()}

    def matches(self, alert: NormalizedAlert) -> bool:
        if self.sources is not None and alert.source not in self.sources:
            return False
        if self.severities is not None and alert.payload.severity not in self.severities:
            return False
        if not (
            _fits(self.account, alert.account) and _fits(self.region, alert.region) and _fits(self.name, alert.name)
        ):
            return False
        return all(_fits(pattern, alert.resource_tags.get(key)) for key, pattern in self.tags.items())


class _Matcher(Protocol):
    def fullmatch(self, value: str) -> object | None: ...


class _Criterion:
    """The patterns of one criterion: globs as one Python expression, ``re:`` expressions as one RE2 expression."""

    def __init__(self, patterns: list[str]) -> None:
        globs = [fnmatch.translate(pattern) for pattern in patterns if not pattern.startswith(_REGEX_PREFIX)]
        expressions = [pattern.removeprefix(_REGEX_PREFIX) for pattern in patterns if pattern.startswith(_REGEX_PREFIX)]
        self._matchers: list[_Matcher] = []
        if globs:
            self._matchers.append(re.compile("|".join(f"(?:{glob})" for glob in globs)))
        if expressions:
            self._matchers.append(_compile_regex("|".join(f"(?:{expression})" for expression in expressions)))

    def fits(self, value: str) -> bool:
        return any(matcher.fullmatch(value) is not None for matcher in self._matchers)


def _compile(patterns: list[str] | None) -> _Criterion | None:
    return _Criterion(patterns) if patterns else None


def _fits(criterion: _Criterion | None, value: str | None) -> bool:
    """No criterion always fits; a criterion never fits a missing value. Patterns must match the whole value."""
    if criterion is None:
        return True
    return value is not None and criterion.fits(value)


class RoutingRules:
    """Validated routing rules. Build with ``from_text`` or ``from_settings``; ask with ``route``."""

    def __init__(self, document: RoutingDocument) -> None:
        self.document = document
        self._rules = [
            _CompiledRule(rule, rule.name or f"rules[{index}]", document.default)
            for index, rule in enumerate(document.rules)
        ]

    @classmethod
    def from_text(cls, text: str, *, environ: Mapping[str, str] | None = None) -> RoutingRules:
        """Parse, interpolate and validate a YAML or JSON document (``environ`` defaults to ``os.environ``)."""
        if len(text) > MAX_DOCUMENT_CHARS:
            raise ConfigurationError(f"routing rules: document is larger than {MAX_DOCUMENT_CHARS} characters")
        try:
            raw = _parse_document(text)
            if raw is None:
                raw = {}
            if not isinstance(raw, dict):
                raise ConfigurationError("routing rules: the document must be a mapping with 'rules' and/or 'default'")
            interpolated = interpolate(raw, os.environ if environ is None else environ, document=_DOCUMENT)
            return cls(RoutingDocument.model_validate(interpolated))
        except PydanticValidationError as exc:
            raise ConfigurationError("routing rules: " + describe_errors(exc, limit=10)) from None
        except RecursionError:
            raise ConfigurationError("routing rules: the document nests too deeply") from None

    @classmethod
    def from_settings(cls, settings: ForwarderSettings, *, environ: Mapping[str, str] | None = None) -> RoutingRules:
        """Rules from ROUTING_RULES (inline) or ROUTING_RULES_FILE; with neither, everything goes to "default"."""
        if settings.routing_rules and settings.routing_rules_file:
            raise ConfigurationError("set ROUTING_RULES or ROUTING_RULES_FILE, not both")
        if settings.routing_rules:
            return cls.from_text(settings.routing_rules, environ=environ)
        if settings.routing_rules_file:
            try:
                text = Path(settings.routing_rules_file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigurationError(
                    f"ROUTING_RULES_FILE: cannot read {settings.routing_rules_file!r}: {exc}"
                ) from None
            return cls.from_text(text, environ=environ)
        return cls(RoutingDocument(default=DefaultRoute(routing_key=DEFAULT_ROUTING_KEY_NAME)))

    @property
    def routing_key_names(self) -> frozenset[str]:
        """Every routing key name the rules can produce: check them against the secret at cold start."""
        names = {rule.routing_key_name for rule in self._rules if rule.routing_key_name}
        if self.document.default is not None:
            names.add(self.document.default.routing_key)
        return frozenset(names)

    def route(self, alert: NormalizedAlert) -> RouteDecision:
        """The first matching rule's decision, else the default route, else an unroutable decision."""
        for rule in self._rules:
            if rule.matches(alert):
                return RouteDecision(
                    rule=rule.label,
                    routing_key_name=rule.routing_key_name,
                    severity=rule.severity,
                    drop=rule.drop,
                    group_by=rule.group_by,
                    send_as=rule.send_as,
                )
        default = self.document.default
        if default is None:
            return RouteDecision(rule=UNROUTABLE_RULE, routing_key_name=None, severity=None, drop=False)
        return RouteDecision(
            rule=DEFAULT_RULE, routing_key_name=default.routing_key, severity=default.severity, drop=False
        )


def _parse_document(text: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(f"routing rules: invalid JSON: {exc}") from None
    from pagerduty_utils.config_parser.yaml_document import load_yaml_document  # noqa: PLC0415  # PyYAML for YAML documents only

    return load_yaml_document(text, document=_DOCUMENT)
