"""Counting, timing and recording the AWS API calls a piece of code makes, for benchmarks: botocore
``provide-client-params``, ``before-call`` and ``after-call`` hooks on every boto3 client created while the counter
is installed, whichever session creates it (the handlers build their own sessions, so hooks on the default session
alone would see nothing)."""

from __future__ import annotations

import contextlib
import copy
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, NamedTuple

import boto3


class AwsRequest(NamedTuple):
    """One recorded call: enough for a plain boto3 client of ``service`` to make it again."""

    operation: str
    parameters: dict[str, Any]
    service: str


class AwsCallCounter:
    """``with counter.installed(): build()`` then ``counter.take()``: calls by operation since the last take;
    ``busy_seconds()``: for how long, since the last take, at least one of those calls was in flight;
    ``requests``: each call since the last take (``AwsRequest``), in the order they were made, so that a peer can
    make the same calls."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.spans: list[tuple[float, float]] = []
        self.requests: list[AwsRequest] = []

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Clients created inside the block are counted for as long as they live; clients created before it
        (a harness's own) are not."""
        original = boto3.session.Session.client

        def counted_client(session: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("provide-client-params", self._requested)
            client.meta.events.register("before-call", self._started)
            client.meta.events.register("after-call", self._ended)
            return client

        boto3.DEFAULT_SESSION = None
        boto3.session.Session.client = counted_client  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            boto3.session.Session.client = original  # type: ignore[method-assign]
            boto3.DEFAULT_SESSION = None

    def _requested(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(AwsRequest(model.name, copy.deepcopy(params), model.service_model.service_name))

    def _started(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        self.calls[model.name] += 1
        context["bench_started"] = time.perf_counter()

    def _ended(self, context: dict[str, Any], **_: Any) -> None:
        if "bench_started" in context:
            self.spans.append((context["bench_started"], time.perf_counter()))

    def take(self) -> Counter[str]:
        taken, self.calls, self.spans, self.requests = self.calls, Counter(), [], []
        return taken

    def busy_seconds(self) -> float:
        """The union of the calls' spans: concurrent calls count once."""
        busy, covered_until = 0.0, float("-inf")
        for started, ended in sorted(self.spans):
            busy += max(0.0, ended - max(started, covered_until))
            covered_until = max(covered_until, ended)
        return busy
