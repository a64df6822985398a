"""pytest fixture for a real Redis server (``pdutils.redis_server``), one per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pdutils.redis_server import RedisEndpoint, running_redis_server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisEndpoint]:
    """One Redis server for the test session (an error, not a skip, when no binary is installed)."""
    with running_redis_server() as endpoint:
        yield endpoint
