"""With tracing off, the X-Ray SDK's core (and its botocore patching) is never imported."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from pagerduty_utils.observability import UnrecordedTracingProvider, tracing_enabled

PROBE = (
    "import sys, pagerduty_utils.observability as o; "
    "print(type(o.tracer.provider).__name__, 'aws_xray_sdk.core' in sys.modules)"
)


def _probe(environment: dict[str, str]) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("POWERTOOLS_", "LAMBDA_"))}
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], env={**env, **environment}, capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()


def test_disabled_tracing_never_imports_xray_core() -> None:
    assert _probe({"POWERTOOLS_TRACE_DISABLED": "true", "LAMBDA_TASK_ROOT": "/var/task"}) == (
        "UnrecordedTracingProvider False"
    )


def test_outside_lambda_tracing_is_off() -> None:
    assert _probe({}) == "UnrecordedTracingProvider False"


def test_in_lambda_tracing_uses_xray() -> None:
    assert _probe({"LAMBDA_TASK_ROOT": "/var/task"}) == "AsyncAWSXRayRecorder True"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
        ({}, False),
    ],
)
def test_tracing_enabled_follows_powertools(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: bool
) -> None:
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert tracing_enabled() is expected


def test_unrecorded_provider_accepts_every_call() -> None:
    provider = UnrecordedTracingProvider()
    with provider.in_subsegment("sync") as segment:
        segment.put_annotation("key", "value")

    async def traced() -> None:
        async with provider.in_subsegment_async("async") as segment:
            segment.put_metadata("key", {"a": 1})

    asyncio.run(traced())
    provider.patch(["botocore"])
    provider.patch_all()
