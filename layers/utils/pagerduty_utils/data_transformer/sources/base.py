"""What every source model shares: the base model, timestamps, ARNs, and validation errors without values."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from pagerduty_utils.exceptions import ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)

_RFC1123 = re.compile(r"^[A-Za-z]{3}, ")
_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):(?P<service>[\w-]+):(?P<region>[\w-]*):(?P<account>\d*):(?P<resource>.+)$"
)


def _parse_rfc1123(value: Any) -> Any:
    if isinstance(value, str) and _RFC1123.match(value):
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return value
    return value


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value is taken as UTC (AWS times are)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp out of range") from None


AwsTimestamp = Annotated[datetime, BeforeValidator(_parse_rfc1123), AfterValidator(as_utc)]


# defer_build: a model's validator is built when it first validates, so a cold start pays only for the sources
# that actually arrive (building every model up front costs tens of milliseconds).
DEFERRED = ConfigDict(defer_build=True)


class SourceModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)


class Arn(BaseModel):
    """The parts of an ARN that the mapping needs (account and region of alarms, topics and findings)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def text(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @classmethod
    def parse(cls, value: str | None) -> Arn | None:
        match = _ARN.match(value or "")
        return cls(**match.groupdict()) if match else None


def parse_source(model: type[ModelT], data: Any, *, what: str) -> ModelT:
    """Validate ``data`` into ``model``; a failure becomes a ``ValidationError`` naming the bad fields (no values)."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError(f"invalid {what}: {describe_errors(exc)}") from None


def describe_errors(exc: PydanticValidationError, *, limit: int = 3) -> str:
    """``path: message`` for the first ``limit`` errors; input values are left out (they may be large or private)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False)[:limit]:
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
        path = path.replace(".[key]", "[key]").lstrip(".")
        problems.append(f"{path or '(root)'}: {error['msg'].removeprefix('Value error, ')}")
    remaining = exc.error_count() - limit
    return "; ".join(problems) + (f" (and {remaining} more)" if remaining > 0 else "")
