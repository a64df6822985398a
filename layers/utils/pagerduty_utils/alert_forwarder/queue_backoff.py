"""Backoff for records handed back to SQS: the message stays invisible until a retry can succeed.

Leaving a retried record to the queue's own visibility timeout (at least 6x the function timeout) would make
a throttled alert wait minutes when PagerDuty asked for seconds, and retry a failing PagerDuty as often as the
queue allows. Instead the forwarder sets each retried message's visibility to the wait it knows (the
rate limiter's refill time, PagerDuty's ``ratelimit-reset``/``Retry-After``, the circuit's remaining open
time) or an exponential backoff on the receive count, with jitter, in one ChangeMessageVisibilityBatch call per
ten messages, on the retry path only.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_SQS_BATCH_LIMIT = 10
_JITTER_SECONDS = 2.0


@dataclass(frozen=True)
class Deferral:
    """Hide one received message for ``seconds``."""

    queue_arn: str
    receipt_handle: str
    seconds: int


def backoff_seconds(
    retry_after: float | None,
    receive_count: int,
    *,
    base: float = 5.0,
    maximum: float = 900.0,
    random_source: Callable[[], float] = random.random,
) -> int:
    """The wait before a retry: the known wait plus jitter, else full-jitter exponential on the receive count."""
    if retry_after is not None:
        wait = retry_after + random_source() * _JITTER_SECONDS
    else:
        ceiling = min(maximum, base * 2.0 ** max(0, receive_count - 1))
        wait = ceiling / 2 + random_source() * ceiling / 2
    return max(1, min(math.ceil(wait), int(maximum)))


def queue_url_from_arn(arn: str, endpoint_url: str) -> str:
    """``arn:aws:sqs:<region>:<account>:<name>`` -> ``<endpoint>/<account>/<name>`` (AWS and the local AWS)."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise ValidationError(f"not an SQS queue ARN: {arn!r}")
    return f"{endpoint_url.rstrip('/')}/{parts[4]}/{parts[5]}"


class QueueBackoff:
    """Applies deferrals with ChangeMessageVisibilityBatch; a failure only means the queue's default wait.

    The SQS client comes from ``client`` on first use: the healthy path never needs one.
    """

    def __init__(self, *, client: Callable[[], SQSClient]) -> None:
        self._client = client

    def defer(self, deferrals: Sequence[Deferral]) -> None:
        client = self._client()
        by_queue: dict[str, list[Deferral]] = defaultdict(list)
        for deferral in deferrals:
            by_queue[queue_url_from_arn(deferral.queue_arn, client.meta.endpoint_url)].append(deferral)
        for queue_url, items in by_queue.items():
            for start in range(0, len(items), _SQS_BATCH_LIMIT):
                chunk = items[start : start + _SQS_BATCH_LIMIT]
                entries = [
                    {"Id": str(index), "ReceiptHandle": item.receipt_handle, "VisibilityTimeout": item.seconds}
                    for index, item in enumerate(chunk)
                ]
                try:
                    response = client.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
                except (ClientError, BotoCoreError) as exc:
                    logger.warning("visibility backoff not applied", extra={"reason": type(exc).__name__})
                    continue
                if response.get("Failed"):
                    logger.warning("visibility backoff partly applied", extra={"failed": len(response["Failed"])})
