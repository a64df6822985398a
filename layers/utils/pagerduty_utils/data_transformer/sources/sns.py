"""The SNS notification, as SNS delivers it to an SQS queue or a Lambda function."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from pagerduty_utils.data_transformer.sources.base import AwsTimestamp, SourceModel


class SnsMessageAttribute(SourceModel):
    type: str = Field(default="String", alias="Type")
    value: str = Field(default="", alias="Value")


class SnsNotification(SourceModel):
    """Only the fields the mapping reads. The signature and URL fields are left out: SQS and Lambda receive the
    notification from SNS itself, so the forwarder never verifies them, and a malformed one must not cost a page.
    """

    type: Literal["Notification"] = Field(alias="Type")
    message_id: str = Field(alias="MessageId", min_length=1)
    topic_arn: str = Field(alias="TopicArn", min_length=1)
    subject: str | None = Field(default=None, alias="Subject")
    message: str = Field(alias="Message")
    timestamp: AwsTimestamp = Field(alias="Timestamp")
    message_attributes: Annotated[dict[str, SnsMessageAttribute], BeforeValidator(lambda v: v or {})] = Field(
        default_factory=dict, alias="MessageAttributes"
    )

    @property
    def attributes(self) -> dict[str, Any]:
        return {name: attribute.value for name, attribute in self.message_attributes.items()}
