"""The severity of a message no model describes, read from the words that report its state.

The rule (docs/forwarder.md): the texts that report a state (an EventBridge event's detail-type and the
``state``/``status``-like fields of its detail; an SNS message's subject and first line, or the status fields of
a JSON message) are split into words, case-insensitively, and the strongest word decides:

- ``CRITICAL``, ``FATAL``, ``EMERGENCY``: ``critical``;
- ``FAILED``, ``FAILURE``, ``ERROR``, ``TIMED_OUT``, ``ALARM``, ``UNHEALTHY``, ``THREATS``, ...: ``error``;
- ``WARNING``, ``DEGRADED``, ``ABORTED``, ``STOPPED``, ...: ``warning``;
- ``SUCCEEDED``, ``SUCCESS``, ``COMPLETED``, ``OK``, ``RESOLVED``, ...: ``info``, and the message counts as a
  success report (a routing rule that groups messages resolves the group's alert with it);
- none of these: ``warning``, the neutral default: worth a look, not a high-urgency page.

A failure word outweighs a success word ("COMPLETED with ERRORS" is an error). Words inside identifiers are
words too (``JOB_FAILED`` has ``FAILED``, ``JOB_TIMED_OUT`` has ``TIMED_OUT``); ``UNSUCCESSFUL`` is one word,
not ``SUCCESSFUL``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pagerduty_utils.pagerduty_events import Severity

NEUTRAL_SEVERITY = Severity.WARNING

_CRITICAL_WORDS = frozenset({"CRITICAL", "FATAL", "EMERGENCY"})
_ERROR_WORDS = frozenset(
    {
        *("FAILED", "FAILURE", "FAILURES", "FAIL", "FAILS", "FAILING", "FAULT"),
        *("ERROR", "ERRORS", "ERRORED", "TIMED_OUT", "TIMEDOUT", "TIMEOUT", "ALARM", "UNHEALTHY", "DOWN"),
        *("THREAT", "THREATS", "INFECTED", "COMPROMISED"),
    }
)
_WARNING_WORDS = frozenset(
    {"WARNING", "WARNINGS", "WARN", "DEGRADED", "ABORTED", "STOPPED", "CANCELED", "CANCELLED", "EXPIRED"}
)
_SUCCESS_WORDS = frozenset(
    {
        *("SUCCEEDED", "SUCCESS", "SUCCESSFUL", "SUCCESSFULLY", "COMPLETED", "COMPLETE", "OK", "HEALTHY"),
        *("RESOLVED", "PASSED", "RECOVERED"),
    }
)
_WORD = re.compile(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*")
_STATUS_KEY_ENDINGS = ("state", "status", "result", "outcome", "severity", "level")
_MAX_TEXT_CHARS = 4096  # the words that matter come first; bounds the work on a large message
_MAX_PARTS = 8  # of one identifier, so the runs of its parts stay few


@dataclass(frozen=True)
class WordVerdict:
    """What the words of a message say: a severity, and whether they report success."""

    severity: Severity
    succeeded: bool


def verdict_of(texts: Iterable[str | None]) -> WordVerdict:
    """The verdict of ``texts`` under the rule above."""
    words: set[str] = set()
    for text in texts:
        for token in _WORD.findall((text or "")[:_MAX_TEXT_CHARS].upper()):
            parts = token.split("_")[:_MAX_PARTS]
            # every run of parts is a word too: JOB_TIMED_OUT has JOB, TIMED_OUT, OUT, ...
            words.update(
                "_".join(parts[start:end]) for start in range(len(parts)) for end in range(start + 1, len(parts) + 1)
            )
    if words & _CRITICAL_WORDS:
        return WordVerdict(Severity.CRITICAL, succeeded=False)
    if words & _ERROR_WORDS:
        return WordVerdict(Severity.ERROR, succeeded=False)
    if words & _WARNING_WORDS:
        return WordVerdict(Severity.WARNING, succeeded=False)
    if words & _SUCCESS_WORDS:
        return WordVerdict(Severity.INFO, succeeded=True)
    return WordVerdict(NEUTRAL_SEVERITY, succeeded=False)


def status_texts(document: Mapping[str, Any], *, depth: int = 2) -> list[str]:
    """The string values of fields that report a state (``state``, ``jobStatus``, ``scanResultStatus``, ...):
    ``document``'s own first, then those of the objects it holds, ``depth`` levels down."""
    own = [
        value
        for key, value in document.items()
        if isinstance(value, str) and str(key).lower().endswith(_STATUS_KEY_ENDINGS)
    ]
    if depth <= 1:
        return own
    nested = [status_texts(value, depth=depth - 1) for value in document.values() if isinstance(value, Mapping)]
    return own + [text for texts in nested for text in texts]
