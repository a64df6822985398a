"""AWS Health events, as EventBridge delivers them."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field

from pagerduty_utils.data_transformer.sources.base import DEFERRED, AwsTimestamp, SourceModel


class HealthEventDescription(SourceModel):
    language: str | None = None
    latest_description: str = Field(default="", alias="latestDescription")


class HealthAffectedEntity(SourceModel):
    entity_value: str = Field(default="", alias="entityValue")
    tags: dict[str, str] = Field(default_factory=dict)


class HealthEventDetail(SourceModel):
    event_arn: str = Field(alias="eventArn", pattern=r"^arn:[\w-]+:health:")
    service: str
    event_type_code: str = Field(alias="eventTypeCode", min_length=1)
    event_type_category: str = Field(alias="eventTypeCategory")
    event_scope_code: str | None = Field(default=None, alias="eventScopeCode")
    status_code: Literal["open", "upcoming", "closed"] | None = Field(default=None, alias="statusCode")
    start_time: AwsTimestamp | None = Field(default=None, alias="startTime")
    end_time: AwsTimestamp | None = Field(default=None, alias="endTime")
    last_updated_time: AwsTimestamp | None = Field(default=None, alias="lastUpdatedTime")
    event_region: str | None = Field(default=None, alias="eventRegion")
    event_description: list[HealthEventDescription] = Field(default_factory=list, alias="eventDescription")
    affected_entities: list[HealthAffectedEntity] = Field(default_factory=list, alias="affectedEntities")
    affected_account: str | None = Field(default=None, alias="affectedAccount")

    @property
    def description(self) -> str:
        """The English description when there is one, else the first."""
        english = [item for item in self.event_description if (item.language or "").startswith("en")]
        chosen = english or self.event_description
        return chosen[0].latest_description if chosen else ""


class HealthEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["AWS Health Event"] = Field(alias="detail-type")
    detail: HealthEventDetail
