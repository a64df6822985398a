"""The one DynamoDB state table every component shares, and how its keys are laid out.

The table has a single string partition key ``pk`` and a TTL attribute ``expiration`` (epoch seconds; the
same names Powertools' idempotency and circuit-breaker persistence use by default). DynamoDB deletes expired
items late, so every reader compares ``expiration`` with the clock itself.
Keys are ``<kind>#<id>``, one prefix per use, so one table serves all of them without collisions.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

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
    HELD = "held"


def state_key(prefix: KeyPrefix, identifier: str) -> str:
    return f"{prefix.value}#{identifier}"


def circuit_key(host: str) -> str:
    """The key of the circuit guarding one PagerDuty host: one circuit per host (see circuit_breaker)."""
    return state_key(KeyPrefix.CIRCUIT, host)


def circuit_key_for_url(base_url: str) -> str:
    """The circuit key for the host of ``base_url`` (host and port, as written in the URL)."""
    return circuit_key(urlsplit(base_url).netloc)
