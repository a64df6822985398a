"""Build a handler's dependencies while Lambda initialises the execution environment, not in its first request.

Lambda runs an on-demand function's Init phase on a full, unthrottled vCPU, and every invocation on the share of
a vCPU that its memory buys: one vCPU at 1,769 MB, so about a seventh at the template's default of 256 MB and
a fourteenth at 128 MB, the smallest size the forwarder fits in (AWS's serverless guide, "Utilize
initialization phase": serverlessland.com/content/service/lambda/guides/effectively-running-java-on-serverless/
init-heavy-lifting). The same setup (settings validated, routing rules
parsed, boto3 clients, secrets providers and the TLS context created: 60 to 250 ms of CPU on the development
machine, the forwarder's the most) therefore takes a fraction of the wall time in Init that it takes in the
first invocation. The builders do no network I/O, so nothing signed can go stale before the first request
(provisioned concurrency initialises ahead of traffic, without the burst).

In Lambda the garbage collector is paused for all of Init: each handler calls ``pause_collection`` before its
own imports, and ``build_during_init`` freezes what Init built (``gc.freeze``: moved to a permanent generation
that collections skip) and resumes collection. Init's objects (modules, classes, pydantic validators, clients: some
130,000 tracked by the collector) live as long as the container, yet the collector would traverse them over and
over: during Init each time allocations cross its thresholds (40 to 65 ms of each handler's Init CPU on the
development machine), and afterwards in every full collection, one of which landed in the forwarder's first
invocation (about 20 ms). CPython's documentation of ``gc.freeze`` suggests the same for state a process sets up
before it starts work. The cyclic garbage Init leaves (some 500 to 900 objects) stays frozen with it.

The handlers keep their cached builders: tests import them without any configuration and inject their own
dependencies, and a build that fails in Init is logged and left to the first invocation, which builds again and
reports the failure through the handler's own error path (a problem response, a retried batch) instead of an
Init error that says nothing to the caller.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable

IN_LAMBDA_VARIABLE = "AWS_LAMBDA_FUNCTION_NAME"
"""Set by Lambda (and by ``pdutils``' local runtime) in every execution environment, unset in tests and tools."""


def in_lambda_environment() -> bool:
    return bool(os.getenv(IN_LAMBDA_VARIABLE))


def pause_collection() -> None:
    """In a Lambda execution environment, stop the garbage collector until ``build_during_init`` has run.

    A handler calls it before its other imports, so that they too run uncollected; elsewhere it does nothing.
    """
    if in_lambda_environment():
        gc.disable()


def build_during_init(builder: Callable[[], object]) -> bool:
    """Call ``builder`` (a cached, side-effect-free setup) now if this is a Lambda execution environment, with the
    collector paused, then freeze everything Init built and resume collection.

    Returns whether the dependencies are built; False outside Lambda and after a failed build.
    """
    if not in_lambda_environment():
        return False
    gc.disable()
    try:
        builder()
    except Exception:  # any failure is reported again by the first invocation, where a caller sees it
        # Imported here: a handler imports this module before anything else, ahead of pause_collection.
        from pagerduty_utils.observability import logger  # noqa: PLC0415

        logger.exception("setup failed during init; the first invocation will build again and report the error")
        return False
    finally:
        gc.freeze()
        gc.enable()
    return True
