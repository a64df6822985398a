"""The Logger, Tracer and Metrics objects, created once and shared by every module and handler.

Service name, namespace and log level come from Powertools' own variables (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL), which template.yaml sets per function.
Tracing goes through Powertools Tracer only (the X-Ray SDK behind it is in maintenance mode). When tracing is
off (POWERTOOLS_TRACE_DISABLED, or outside Lambda, as Powertools decides it) the Tracer gets a provider that
records nothing, so the X-Ray SDK and its botocore patching are never imported: they would double the cold
start for nothing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _UnrecordedSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        """Nothing was opened."""

    def add_subsegment(self, subsegment: Any) -> None:
        """Nothing is recorded."""

    def remove_subsegment(self, subsegment: Any) -> None:
        """Nothing is recorded."""

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing is recorded."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Nothing is recorded."""

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        """Nothing is recorded."""


class UnrecordedTracingProvider(BaseProvider):
    """A tracing provider for when tracing is off: every call is accepted and nothing is recorded."""

    @contextmanager
    def in_subsegment(
        self,
        name: str | None = None,  # noqa: ARG002 - the signature is BaseProvider's
        **kwargs: Any,  # noqa: ARG002
    ) -> Generator[BaseSegment, None, None]:
        yield _UnrecordedSegment()

    @asynccontextmanager
    async def in_subsegment_async(
        self,
        name: str | None = None,  # noqa: ARG002 - the signature is BaseProvider's
        **kwargs: Any,  # noqa: ARG002
    ) -> AsyncGenerator[BaseSegment, None]:
        yield _UnrecordedSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing is recorded."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Nothing is recorded."""

    def patch(self, modules: Sequence[str]) -> None:
        """Nothing to instrument."""

    def patch_all(self) -> None:
        """Nothing to instrument."""


def tracing_enabled() -> bool:
    """Powertools' rule: on in Lambda (not under SAM local) unless POWERTOOLS_TRACE_DISABLED is true."""
    if resolve_truthy_env_var_choice(env=os.getenv("POWERTOOLS_TRACE_DISABLED", "false")):
        return False
    return bool(os.getenv("LAMBDA_TASK_ROOT")) and not os.getenv("AWS_SAM_LOCAL")


def _build_tracer() -> Tracer:
    if tracing_enabled():
        return Tracer()
    return Tracer(disabled=True, auto_patch=False, provider=UnrecordedTracingProvider())


logger = Logger()
tracer = _build_tracer()
metrics = Metrics()
