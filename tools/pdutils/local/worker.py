"""A Lambda execution environment in a fresh interpreter: ``python -m pdutils.local.worker``.

The parent (``pdutils.local.runner``) starts one worker per function, with the function's environment. The
first line on stdin describes the function; each following line is one invocation, answered by one line of
JSON on the protocol stream. Like Lambda, the handler is imported once (cold start) and then reused (warm).
Anything the handler prints goes to stderr, the function's log stream, so it never corrupts the protocol.
Around each invocation the log gets Lambda's own lines (``START``, ``END`` and ``REPORT`` with the duration,
the peak memory against the function's MemorySize, and on the first one the Init duration).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import resource
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, TextIO


@dataclass
class LambdaContext:
    """The attributes and the one method of the Lambda context object that handlers and Powertools use."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_epoch_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_epoch_ms - int(time.time() * 1000))


def _error_payload(error_type: str, exc: BaseException, *, skip_frames: int = 0) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)[skip_frames:]
    return {"errorType": error_type, "errorMessage": str(exc), "stackTrace": traceback.format_list(frames)}


def _load_handler(function: dict[str, Any]) -> Any:
    for directory in reversed(function["paths"]):
        sys.path.insert(0, directory)
    module_name, handler_name = function["handler"].rsplit(".", 1)
    module = importlib.import_module(module_name)
    return getattr(module, handler_name)


def _invoke(handler: Any, function: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(
        function_name=function["function_name"],
        function_version="$LATEST",
        invoked_function_arn=function["function_arn"],
        memory_limit_in_mb=function["memory_mb"],
        aws_request_id=request["request_id"],
        log_group_name=f"/aws/lambda/{function['function_name']}",
        log_stream_name=function["log_stream_name"],
        deadline_epoch_ms=request["deadline_epoch_ms"],
    )
    try:
        result = handler(request["event"], context)
    except Exception as exc:  # the handler's unhandled error is the invocation's result, as in Lambda
        return {"error": _error_payload(type(exc).__name__, exc, skip_frames=1)}  # from the handler down
    try:
        return {"result": json.loads(json.dumps(result))}
    except (TypeError, ValueError) as exc:
        return {"error": _error_payload("Runtime.MarshalError", exc)}


def _peak_memory_mb() -> int:
    """The process's peak resident memory, in MB as Lambda reports it.

    Linux's ``VmHWM``: ``ru_maxrss`` would also count the parent's pages from before the worker's ``exec``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            peak_kib = int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
    except (OSError, StopIteration):  # not Linux: ru_maxrss is in bytes on macOS, KiB elsewhere
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_kib = peak // 1024 if sys.platform == "darwin" else peak
    return math.ceil(peak_kib / 1024)


def _report_lines(request_id: str, duration_ms: float, memory_mb: int, init_ms: float | None) -> list[str]:
    """Lambda's END and REPORT lines for one invocation, and a warning when memory passed the function's size."""
    used = _peak_memory_mb()
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {math.ceil(duration_ms)} ms"
        f"\tMemory Size: {memory_mb} MB\tMax Memory Used: {used} MB"
    )
    if init_ms is not None:
        report += f"\tInit Duration: {init_ms:.2f} ms"
    lines = [f"END RequestId: {request_id}", report]
    if used > memory_mb:
        lines.append(
            f"WARNING: {used} MB used, over the function's {memory_mb} MB: Lambda would stop it (out of memory)"
        )
    return lines


def serve(requests: TextIO, replies: TextIO, log: TextIO = sys.stderr) -> None:
    function: dict[str, Any] = json.loads(requests.readline())
    started = time.perf_counter()
    try:
        handler = _load_handler(function)
        init_error = None
    except Exception as exc:  # an import error fails every invocation, as Lambda reports it
        handler, init_error = None, _error_payload("Runtime.ImportModuleError", exc)
    init_ms: float | None = (time.perf_counter() - started) * 1000
    for line in requests:
        request = json.loads(line)
        log.write(f"START RequestId: {request['request_id']} Version: $LATEST\n")
        began = time.perf_counter()
        reply = {"error": init_error} if init_error else _invoke(handler, function, request)
        duration_ms = (time.perf_counter() - began) * 1000
        report = _report_lines(request["request_id"], duration_ms, function["memory_mb"], init_ms)
        log.writelines(f"{text}\n" for text in report)
        log.flush()
        init_ms = None
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> None:
    # Ctrl-C reaches the whole process group: the parent decides when a worker stops (it closes stdin).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin, replies)


if __name__ == "__main__":
    main()
