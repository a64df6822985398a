"""An embedded AWS: a moto server on a free loopback port, speaking real HTTP to botocore.

Used by the local stack (``pdutils start``) and by the tests; clients reach it through the standard
``AWS_ENDPOINT_URL`` variable, so no code path knows it is not talking to AWS.

The server is moto's own WSGI application on a threaded werkzeug server, as ``moto.server.ThreadedMotoServer``
runs it, with one difference: DynamoDB requests are served one at a time. DynamoDB applies each conditional
write atomically; moto's backend checks the condition and then writes without a lock, so two concurrent
conditional updates of one item can both succeed when a thread switch falls between them (it happens under
load, and at once with a short ``sys.setswitchinterval``). The rate limiter, the ledger and the circuit rely on
that atomicity across containers. Other services keep serving concurrently: an SQS long poll must not hold up
the table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

# moto accepts any credentials; fixed placeholders only keep botocore from looking for real ones.
PLACEHOLDER_CREDENTIALS = dict.fromkeys(("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"), "testing")
LOCAL_CREDENTIALS = {**PLACEHOLDER_CREDENTIALS, "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}


@dataclass(frozen=True)
class MotoEndpoint:
    """Where the embedded AWS listens, and the environment that points boto3 at it."""

    url: str

    @property
    def environment(self) -> dict[str, str]:
        return {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": self.url}

    def reset(self) -> None:
        """Drop every resource, as if the server had just started."""
        httpx.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()


# botocore's JSON protocol names the DynamoDB operation in this header, e.g. "DynamoDB_20120810.UpdateItem".
DYNAMODB_TARGET_PREFIX = "DynamoDB_20120810."
WsgiApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OneDynamoDBRequestAtATime:
    """WSGI middleware: DynamoDB requests run one at a time, each to the end of its response, as if every item's
    writes were serialized the way DynamoDB serializes them; any other request passes straight through."""

    def __init__(self, application: WsgiApplication) -> None:
        self._application = application
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(DYNAMODB_TARGET_PREFIX):
            return self._application(environ, start_response)
        with self._lock:
            response = self._application(environ, start_response)
            try:
                return list(response)
            finally:
                close = getattr(response, "close", None)  # the WSGI contract: a server closes what it iterated
                if close is not None:
                    close()


@contextmanager
def running_moto_server(port: int = 0) -> Iterator[MotoEndpoint]:
    """Start moto on 127.0.0.1 (``port`` 0 picks a free one) and stop it on exit."""
    # Deferred: moto takes a second or more to import, and the commands that only connect to a running stack
    # (``pdutils invoke``) need nothing from this module but the constants above.
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server  # noqa: PLC0415

    application = OneDynamoDBRequestAtATime(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, application, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="embedded-aws", daemon=True)
    thread.start()
    try:
        yield MotoEndpoint(url=f"http://{server.server_address[0]!s}:{server.server_address[1]}")
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
