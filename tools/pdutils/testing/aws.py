"""pytest fixtures for the embedded AWS (a moto server over real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pdutils.moto_server import MotoEndpoint, running_moto_server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoEndpoint]:
    """One moto server per test process (each pytest-xdist worker has its own), on a free port, stopped at the
    end."""
    with running_moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws(moto_server: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> MotoEndpoint:
    """A clean embedded AWS for one test, with boto3 pointed at it through AWS_ENDPOINT_URL."""
    moto_server.reset()
    for name, value in moto_server.environment.items():
        monkeypatch.setenv(name, value)
    return moto_server
