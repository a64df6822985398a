"""Run one function's handler in its own worker process (``pdutils.local.worker``), as Lambda would.

Why a process per function rather than importing handlers into the CLI's own interpreter: each function has
its own environment variables (settings are read from ``os.environ``), handlers share module names
(``app``), and a crash, a hang or an ``os._exit`` in a handler must not take the local stack down. A worker
is kept warm between invocations like a Lambda execution environment, and replaced after a timeout or a
crash. Invocations of one function are serialized (one execution environment per function).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess  # nosec B404  # starts only our own worker module
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, TextIO

from pdutils.local.template import FunctionSpec

if TYPE_CHECKING:
    from pagerduty_utils.prometheus import PrometheusRegistry

# Variables a worker inherits from the CLI's environment; the rest of its environment is the function's own.
_INHERITED_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV", "PYTHONPATH")


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation: the handler's result, or Lambda's error payload."""

    request_id: str
    result: Any = None
    error: Mapping[str, Any] | None = None
    duration_ms: float = 0.0

    @property
    def failed(self) -> bool:
        return self.error is not None


def lambda_environment(function: FunctionSpec, region: str) -> dict[str, str]:
    """The reserved variables Lambda sets for every function."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(function.code_dir),
        "_HANDLER": function.handler,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


class FunctionRunner:
    """A warm worker process for one function; ``invoke`` is thread-safe."""

    def __init__(
        self,
        function: FunctionSpec,
        environment: Mapping[str, str],
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        log_stream: TextIO | None = None,
        metrics: PrometheusRegistry | None = None,
    ) -> None:
        """``environment`` is the function's own (resolved template variables, AWS endpoint, credentials).

        Logs go to the CLI's stderr, or, with ``log_stream``, line by line prefixed with the function's id.
        With ``metrics``, the EMF documents among them (what CloudWatch would turn into metrics) are also
        counted there, for the local runtime's ``/metrics``.
        """
        self.function = function
        self._environment = {
            **{name: os.environ[name] for name in _INHERITED_VARIABLES if name in os.environ},
            **lambda_environment(function, region),
            "PYTHONUNBUFFERED": "1",
            **environment,
        }
        self._function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function.logical_id}"
        self._log_stream = log_stream
        self._metrics = metrics
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[str | None] = queue.Queue()

    def invoke(self, event: Any, *, request_id: str | None = None) -> Invocation:
        request_id = request_id or str(uuid.uuid4())
        timeout = float(self.function.timeout_seconds)
        with self._lock:
            process = self._ensure_started()
            started = time.monotonic()
            deadline_epoch_ms = int(time.time() * 1000 + timeout * 1000)
            request = {"request_id": request_id, "event": event, "deadline_epoch_ms": deadline_epoch_ms}
            try:
                _send(process, request)
                line = self._replies.get(timeout=timeout)
            except OSError:  # the worker died since the last invocation: its reply stream is ending too
                line = None
            except queue.Empty:
                self._stop_process(kill=True)
                error = _error("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds")
                return Invocation(request_id, error=error, duration_ms=timeout * 1000)
            duration_ms = (time.monotonic() - started) * 1000
            if line is None:
                self._stop_process(kill=True)
                error = _error("Runtime.ExitError", f"the function's process exited (code {process.wait()})")
                return Invocation(request_id, error=error, duration_ms=duration_ms)
            reply = json.loads(line)
            return Invocation(request_id, result=reply.get("result"), error=reply.get("error"), duration_ms=duration_ms)

    def close(self) -> None:
        with self._lock:
            self._stop_process()

    def __enter__(self) -> FunctionRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ensure_started(self) -> subprocess.Popen[str]:
        if self._process is not None:
            return self._process
        process = subprocess.Popen(  # nosec B603  # our own interpreter and module, no shell
            [sys.executable, "-m", "pdutils.local.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if self._log_stream or self._metrics else None,
            env=self._environment,
            cwd=self.function.code_dir,
            text=True,
        )
        replies: queue.Queue[str | None] = queue.Queue()
        self._replies = replies
        _pump(process.stdout, replies.put, on_end=lambda: replies.put(None))
        if self._log_stream is not None or self._metrics is not None:
            prefix = f"[{self.function.logical_id}] " if self._log_stream is not None else ""
            writer = _prefixed_writer(self._log_stream or sys.stderr, prefix)
            _pump(process.stderr, writer if self._metrics is None else _emf_reader(self._metrics, writer))
        description = {
            "handler": self.function.handler,
            "paths": [str(self.function.code_dir), *map(str, self.function.layer_dirs)],
            "function_name": self.function.logical_id,
            "function_arn": self._function_arn,
            "memory_mb": self.function.memory_mb,
            "log_stream_name": "local",
        }
        _send(process, description)
        self._process = process
        return process

    def _stop_process(self, *, kill: bool = False) -> None:
        """End the worker: at once (``kill``), or by closing its input and giving it a moment to finish."""
        process, self._process = self._process, None
        if process is None:
            return
        if kill:
            process.kill()
        with contextlib.suppress(OSError):  # a dead worker's pipe is broken
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _error(error_type: str, message: str) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": message, "stackTrace": []}


def _send(process: subprocess.Popen[str], message: Mapping[str, Any]) -> None:
    if process.stdin is None:
        raise RuntimeError("the worker was started without a stdin pipe")
    process.stdin.write(json.dumps(message) + "\n")
    process.stdin.flush()


def _prefixed_writer(stream: TextIO, prefix: str) -> Callable[[str], None]:
    def write(line: str) -> None:
        stream.write(prefix + line)
        stream.flush()

    return write


def _emf_reader(metrics: PrometheusRegistry, then: Callable[[str], None]) -> Callable[[str], None]:
    """Count each EMF document of the log in ``metrics``, and pass every line on to ``then``."""

    def read(line: str) -> None:
        if line.startswith('{"_aws"'):
            with contextlib.suppress(ValueError):
                document = json.loads(line)
                if isinstance(document, dict):
                    metrics.observe_emf(document)
        then(line)

    return read


def _pump(stream: IO[str] | None, sink: Callable[[str], object], *, on_end: Callable[[], object] | None = None) -> None:
    """Copy ``stream`` line by line into ``sink`` on a daemon thread; call ``on_end`` at end of stream."""

    if stream is None:
        raise RuntimeError("the worker was started without an output pipe")

    def run() -> None:
        with stream:
            for line in stream:
                sink(line)
        if on_end is not None:
            on_end()

    threading.Thread(target=run, daemon=True).start()
