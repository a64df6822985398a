"""The request handler both local HTTP servers (the API and the PagerDuty simulator) build on."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


class OneEntryRequestHandler(BaseHTTPRequestHandler):
    """Hands GET, POST, PUT, PATCH and DELETE to ``_serve``: the servers route on method and path themselves."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        raise NotImplementedError
