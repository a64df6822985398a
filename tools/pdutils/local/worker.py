"""A Lambda execution environment in a fresh interpreter: ``python -m pdutils.local.worker``.

The parent (``pdutils.local.runner``) starts one worker per function, with the function's environment. The
first line on stdin describes the function; each following line is one invocation, answered by one line of
JSON on the protocol stream. Like Lambda, the handler is imported once (cold start) and then reused (warm).
Anything the handler prints goes to stderr, the function's log stream, so it never corrupts the protocol.
"""

from __future__ import annotations

import importlib
import json
import os
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


def serve(requests: TextIO, replies: TextIO) -> None:
    function: dict[str, Any] = json.loads(requests.readline())
    try:
        handler = _load_handler(function)
        init_error = None
    except Exception as exc:  # an import error fails every invocation, as Lambda reports it
        handler, init_error = None, _error_payload("Runtime.ImportModuleError", exc)
    for line in requests:
        request = json.loads(line)
        reply = {"error": init_error} if init_error else _invoke(handler, function, request)
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
