"""The custom application event (documented in docs/routing-rules.md): its fields are a contract."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pagerduty_utils.data_transformer.sources.base import DEFERRED, AwsTimestamp
from pagerduty_utils.pagerduty_events import Severity


class CustomAlertLink(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    href: str = Field(pattern=r"^https?://[^\s]+$", max_length=2048)
    text: str | None = Field(default=None, max_length=1024)


class CustomAlertDetail(BaseModel):
    """``detail`` of an "Application Alert" event that an application puts on an event bus."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    summary: str = Field(min_length=1, max_length=16 * 1024)
    severity: Severity = Severity.ERROR
    state: Literal["triggered", "resolved"] = "triggered"
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    component: str | None = Field(default=None, max_length=1024)
    group: str | None = Field(default=None, max_length=1024)
    class_: str | None = Field(default=None, alias="class", max_length=1024)
    links: list[CustomAlertLink] = Field(default_factory=list, max_length=20)
    details: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    timestamp: AwsTimestamp | None = None


class CustomAlertEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["Application Alert"] = Field(alias="detail-type")
    detail: CustomAlertDetail

    @field_validator("source")
    @classmethod
    def _not_an_aws_source(cls, value: str) -> str:
        if value.startswith("aws."):
            raise ValueError("custom application events must not use an 'aws.' source (EventBridge reserves it)")
        return value
