"""Counting the AWS API calls a piece of code makes, for benchmarks: botocore ``before-call`` hooks on every
boto3 client created while the counter is installed, whichever session creates it (the handlers build their
own sessions, so hooks on the default session alone would see nothing)."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3


class AwsCallCounter:
    """``with counter.installed(): build()`` then ``counter.take()``: calls by operation since the last take."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Clients created inside the block are counted for as long as they live; clients created before it
        (a harness's own) are not."""
        original = boto3.session.Session.client

        def counted_client(session: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-call", self._count)
            return client

        boto3.DEFAULT_SESSION = None
        boto3.session.Session.client = counted_client  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            boto3.session.Session.client = original  # type: ignore[method-assign]
            boto3.DEFAULT_SESSION = None

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def take(self) -> Counter[str]:
        taken, self.calls = self.calls, Counter()
        return taken
