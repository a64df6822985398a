"""Serve a template's API routes on localhost, each request as an API Gateway REST (v1) proxy event.

Like ``sam local start-api``: the route's function gets the proxy event (body base64-encoded when it is not
UTF-8 text), and its response (``statusCode``, ``headers``, ``multiValueHeaders``, ``body``,
``isBase64Encoded``) becomes the HTTP response. A route that does not exist answers 403 "Missing
Authentication Token", and a function that fails answers 502, as API Gateway does. Given a metrics registry,
the server also answers ``GET /metrics`` (not an API route: the local runtime's own) with its Prometheus text.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from threading import Thread
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from pdutils.http_handler import OneEntryRequestHandler
from pdutils.local.runner import Invocation
from pdutils.local.template import FunctionSpec

if TYPE_CHECKING:
    from pagerduty_utils.prometheus import PrometheusRegistry

STAGE = "Prod"
ANY_METHOD = "ANY"
METRICS_PATH = "/metrics"

Invoke = Callable[[str, Any], Invocation]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function_id: str

    @property
    def pattern(self) -> re.Pattern[str]:
        """``/items/{id}`` matches one segment, ``/{proxy+}`` the rest of the path."""
        regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")

    def matches(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in (method, ANY_METHOD):
            return None
        match = self.pattern.match(path)
        return match.groupdict() if match else None


def api_routes(functions: Sequence[FunctionSpec], resolve: Callable[[Any], Any]) -> list[Route]:
    """Every ``Api`` event of ``functions``, most specific paths first (literal segments beat parameters)."""
    routes = [
        Route(method=str(properties["Method"]).upper(), path=str(properties["Path"]), function_id=function.logical_id)
        for function in functions
        for event in function.events_of_type("Api")
        for properties in [resolve(dict(event.properties))]
    ]
    return sorted(routes, key=lambda route: (route.path.count("{"), -len(route.path)))


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query string, as on the request line
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str


def proxy_event(route: Route, request: HttpRequest) -> dict[str, Any]:
    method, body = request.method, request.body
    url = urlsplit(request.target)
    query = parse_qs(url.query, keep_blank_values=True)
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        multi_headers.setdefault(name, []).append(value)
    text = _as_text(body)
    now = datetime.now(UTC)
    return {
        "resource": route.path,
        "path": url.path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": route.matches(method, url.path) or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": f"/{STAGE}{url.path}",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "accountId": "123456789012",
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": request.source_ip, "userAgent": multi_headers.get("User-Agent", [None])[-1]},
        },
        "body": (text if text is not None else base64.b64encode(body).decode()) if body else None,
        "isBase64Encoded": bool(body) and text is None,
    }


def _as_text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def http_response(invocation: Invocation) -> HttpResponse:
    """The HTTP response API Gateway makes of a proxy integration's result."""
    result = invocation.result
    if invocation.failed or not isinstance(result, dict):
        return _json_response(502, {"message": "Internal server error"})
    try:
        headers = [(str(name), str(value)) for name, value in (result.get("headers") or {}).items()]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((str(name), str(value)) for value in values)
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        return HttpResponse(int(result.get("statusCode", 200)), headers, payload)
    except (TypeError, ValueError, AttributeError):
        return _json_response(502, {"message": "Internal server error"})


def _metrics_response(metrics: PrometheusRegistry) -> HttpResponse:
    from pagerduty_utils.prometheus import CONTENT_TYPE  # noqa: PLC0415  # the module is loaded with the registry

    return HttpResponse(200, [("Content-Type", CONTENT_TYPE)], metrics.render().encode())


def _json_response(status: int, document: Mapping[str, Any]) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(document).encode())


class _ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # PagerDuty delivers webhooks concurrently, and a burst must queue rather than be refused: the default
    # listen backlog (5) lost deliveries to connection resets at 50 at once. Each request gets its own thread.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        routes: Sequence[Route],
        invoke: Invoke,
        metrics: PrometheusRegistry | None = None,
    ) -> None:
        super().__init__(address, _RequestHandler)
        self.routes = routes
        self.invoke = invoke
        self.metrics = metrics


class _RequestHandler(OneEntryRequestHandler):
    server: _ApiServer

    def do_HEAD(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the functions' own logs tell what happened."""

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        route = next((route for route in self.server.routes if route.matches(self.command, path) is not None), None)
        if (
            route is None
            and path == METRICS_PATH
            and self.command in ("GET", "HEAD")
            and self.server.metrics is not None
        ):
            response = _metrics_response(self.server.metrics)
        elif route is None:
            response = _json_response(403, {"message": "Missing Authentication Token"})
        else:
            request = HttpRequest(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
            event = proxy_event(route, request)
            response = http_response(self.server.invoke(route.function_id, event))
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)


@dataclass(frozen=True)
class ApiHandle:
    url: str
    routes: Sequence[Route]


@contextmanager
def serving_api(
    routes: Sequence[Route],
    invoke: Invoke,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    metrics: PrometheusRegistry | None = None,
) -> Iterator[ApiHandle]:
    """Serve ``routes`` on ``host:port`` (0: a free port) until the block exits; ``metrics`` at /metrics."""
    server = _ApiServer((host, port), routes, invoke, metrics)
    thread = Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        bound_host, bound_port = server.server_address[:2]
        yield ApiHandle(url=f"http://{bound_host!s}:{bound_port}", routes=routes)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
