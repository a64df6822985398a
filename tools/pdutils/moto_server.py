"""An embedded AWS: a moto server on a free loopback port, speaking real HTTP to botocore.

Used by the local stack (``pdutils start``) and by the tests; clients reach it through the standard
``AWS_ENDPOINT_URL`` variable, so no code path knows it is not talking to AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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


@contextmanager
def running_moto_server(port: int = 0) -> Iterator[MotoEndpoint]:
    """Start moto on 127.0.0.1 (``port`` 0 picks a free one) and stop it on exit."""
    # Deferred: moto takes a second or more to import, and the commands that only connect to a running stack
    # (``pdutils invoke``) need nothing from this module but the constants above.
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        host, bound_port = server.get_host_and_port()
        yield MotoEndpoint(url=f"http://{host}:{bound_port}")
    finally:
        server.stop()
