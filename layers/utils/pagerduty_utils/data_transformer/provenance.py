"""What an AWS-service-shaped alert becomes when its channel does not prove the source it claims.

AWS service events (alarms, GuardDuty, Security Hub, AWS Health) own the ``aws/`` dedup-key namespace. A
document of that shape arriving through a channel others may write to (an SNS topic named publishers share, a
direct send to the queue) is mapped as usual and then turned into a custom alert *claimed* by that channel:

- source ``custom``, so rules for ``guardduty`` or ``cloudwatch_alarm`` never route it;
- dedup key ``claimed/<channel>/<the key it claims>``: it can open and resolve only what its own channel opened,
  never what a service event opened;
- severity ``error`` (a custom event's default), whatever severity the document claims;
- the summary says it is unverified, and custom_details name the claimed source and the channel.

Custom events may not choose a dedup key in either namespace (``check_custom_dedup_key``).
"""

from __future__ import annotations

from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert
from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.formatters import clean_text
from pagerduty_utils.pagerduty_events import Severity

SERVICE_KEY_PREFIX = "aws/"
CLAIMED_KEY_PREFIX = "claimed/"
UNVERIFIED_SEVERITY = Severity.ERROR
_SUMMARY_LIMIT = 1024
_CHANNEL_SOURCES = frozenset({AlertSource.CUSTOM, AlertSource.SNS})  # already the channel's own messages


def as_claimed(alert: NormalizedAlert, channel: str) -> NormalizedAlert:
    """``alert`` as a custom alert of ``channel`` when it claims an AWS service source; else unchanged."""
    if alert.source in _CHANNEL_SOURCES:
        return alert
    payload = alert.payload.model_copy(
        update={
            "summary": clean_text(
                f"Unverified {alert.source.value}: {alert.payload.summary}", _SUMMARY_LIMIT, single_line=True
            ),
            "severity": UNVERIFIED_SEVERITY,
            "custom_details": {
                **(alert.payload.custom_details or {}),
                "claimed_source": alert.source.value,
                "channel": channel,
            },
        }
    )
    return alert.model_copy(
        update={
            "source": AlertSource.CUSTOM,
            "dedup_key": f"{CLAIMED_KEY_PREFIX}{channel}/{alert.dedup_key}",
            "payload": payload,
        }
    )


def check_custom_dedup_key(dedup_key: str) -> str:
    """A custom event's own dedup key, refused when it would enter a namespace it cannot prove it owns.

    The key is checked as it will be sent: cleaning drops leading blanks and invisible characters.
    """
    sent = clean_text(dedup_key, len(dedup_key), single_line=True)
    for prefix in (SERVICE_KEY_PREFIX, CLAIMED_KEY_PREFIX):
        if sent.startswith(prefix):
            raise ValidationError(
                f"custom event dedup_key must not start with {prefix!r}: that namespace belongs to AWS service "
                "events and to documents whose source is unverified"
            )
    return dedup_key
