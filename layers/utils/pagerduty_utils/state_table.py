"""The one DynamoDB state table every component shares, and how its keys are laid out.

The table has a single string partition key ``pk`` and a TTL attribute ``expiration`` (epoch seconds; the
same names Powertools' idempotency and circuit-breaker persistence use by default). DynamoDB deletes expired
items late, so every reader compares ``expiration`` with the clock itself.
Keys are ``<kind>#<id>``, one prefix per use, so one table serves all of them without collisions.
"""

from __future__ import annotations

from enum import StrEnum

KEY_ATTRIBUTE = "pk"
EXPIRY_ATTRIBUTE = "expiration"


class KeyPrefix(StrEnum):
    CIRCUIT = "circuit"
    RATE_LIMIT = "rate"
    CACHE = "cache"
    ALERT = "alert"
    WEBHOOK = "webhook"
    INCIDENT = "incident"
    HEALTH = "health"


def state_key(prefix: KeyPrefix, identifier: str) -> str:
    return f"{prefix.value}#{identifier}"
