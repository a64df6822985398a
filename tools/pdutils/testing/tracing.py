"""A tracing provider that keeps what a handler would have put into X-Ray, for tests to inspect."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

import pytest
from aws_lambda_powertools.tracing.base import BaseSegment

from pagerduty_utils.observability import UnrecordedTracingProvider, tracer


class _RecordingSegment(BaseSegment):
    def __init__(self, metadata: dict[str, Any]) -> None:
        self._metadata = metadata

    def close(self, end_time: int | None = None) -> None:
        """Nothing to close."""

    def add_subsegment(self, subsegment: Any) -> None:
        """Only metadata is kept."""

    def remove_subsegment(self, subsegment: Any) -> None:
        """Only metadata is kept."""

    def put_annotation(self, key: str, value: Any) -> None:
        """Only metadata is kept."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self._metadata[f"{namespace}/{key}"] = value

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        """Only metadata is kept."""


class RecordingTracingProvider(UnrecordedTracingProvider):
    """Every subsegment's metadata, by ``namespace/key``."""

    def __init__(self) -> None:
        self.metadata: dict[str, Any] = {}

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:  # noqa: ARG002
        yield _RecordingSegment(self.metadata)


@pytest.fixture
def trace_metadata(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The metadata the shared Tracer records while the test runs."""
    provider = RecordingTracingProvider()
    monkeypatch.setattr(tracer, "provider", provider)
    return provider.metadata
