"""Request validation against PagerDuty's official OpenAPI files, with openapi-core.

The files ship with pdutils, in ``pdutils/simulator/spec/`` (their source, commit and licence status are in
its PROVENANCE.md); a directory given by the caller or the ``PDUTILS_SIM_SPEC_DIR`` environment variable
replaces them, e.g. to try a newer schema.
Each file is parsed once per process, on first use, and the time it took is kept in ``load_seconds``.

Where the official REST file disagrees with PagerDuty's documented requests (which the API accepts), the
documented requests win; every such correction is made here, in one place (``_accept_documented_requests``):
- the file fails openapi-core's own spec check (a string default on an integer): it is loaded unchecked;
- reference objects (``service_reference`` ...) inherit ``readOnly`` on ``id`` and ``type``, yet documented
  requests send them (``"service": {"id": ..., "type": "service_reference"}``): the flags are dropped from the
  reference base schema;
- documented incident creations omit ``incident.type`` and send ``body.details`` as a string: ``type`` is
  not required there and ``details`` may be a string or an object.
The Events file leaves the conditional rules to prose (a trigger needs a payload, acknowledge and resolve
need a dedup_key): ``events_prose_rules`` checks them.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_DIR_ENV = "PDUTILS_SIM_SPEC_DIR"
PACKAGED_SPEC_DIR = Path(__file__).resolve().parent / "spec"
EVENTS_SPEC_FILE = "events-api-v2.openapiv3.json"
REST_SPEC_FILE = "rest-api-v2.openapiv3.json"
EVENTS_HOST = "https://events.pagerduty.com"
REST_HOST = "https://api.pagerduty.com"
REFERENCE_BASE_SCHEMA = "Reference"
WRITABLE_REFERENCE_FIELDS = ("id", "type")

Body = bytes | str | Mapping[str, Any] | None
QueryParams = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]


class SpecUnavailableError(FileNotFoundError):
    """The OpenAPI files are not where the simulator was told to look."""


def default_spec_dir() -> Path:
    """``$PDUTILS_SIM_SPEC_DIR``, else the files shipped with pdutils."""
    configured = os.environ.get(SPEC_DIR_ENV)
    return Path(configured) if configured else PACKAGED_SPEC_DIR


def spec_files_present(spec_dir: Path) -> bool:
    return (spec_dir / EVENTS_SPEC_FILE).is_file() and (spec_dir / REST_SPEC_FILE).is_file()


@dataclass
class _Request:
    """The request shape openapi-core validates (its ``Request`` protocol)."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


def _encode_body(body: Body) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def _query_pairs(query: QueryParams | None) -> list[tuple[str, str]]:
    if query is None:
        return []
    if isinstance(query, Mapping):
        pairs: list[tuple[str, str]] = []
        for name, value in query.items():
            values = [value] if isinstance(value, str) else list(value)
            pairs.extend((name, item) for item in values)
        return pairs
    return list(query)


def _error_messages(errors: Iterator[Exception]) -> list[str]:
    """Flatten openapi-core's nested errors into one readable message per schema violation."""
    messages: list[str] = []
    for error in errors:
        cause = error.__cause__
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            for schema_error in schema_errors:
                location = ".".join(str(part) for part in schema_error.path)
                messages.append(f"{location}: {schema_error.message}" if location else schema_error.message)
        elif cause is not None:
            messages.append(f"{error}: {cause}")
        else:
            messages.append(str(error))
    return messages


def _accept_documented_requests(spec: dict[str, Any]) -> None:
    _allow_writable_references(spec)
    create_incident = spec["paths"]["/incidents"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    incident = create_incident["properties"]["incident"]
    incident["required"] = [name for name in incident.get("required", []) if name != "type"]
    incident_body = spec["components"]["schemas"]["IncidentBody"]
    incident_body["properties"]["details"] = {"anyOf": [{"type": "string"}, {"type": "object"}]}
    incident_body["required"] = [name for name in incident_body.get("required", []) if name != "type"]


def _allow_writable_references(spec: dict[str, Any]) -> None:
    """Drop ``readOnly`` from ``id``/``type`` in every schema the reference base is built from."""
    schemas = spec["components"]["schemas"]
    pending: list[Any] = [schemas[REFERENCE_BASE_SCHEMA]]
    while pending:
        node = pending.pop()
        if not isinstance(node, dict):
            continue
        reference = node.get("$ref")
        if isinstance(reference, str):
            pending.append(_resolve_pointer(spec, reference))
        pending.extend(node.get("allOf", []))
        properties = node.get("properties", {})
        for name in WRITABLE_REFERENCE_FIELDS:
            if name in properties:
                properties[name].pop("readOnly", None)


def _resolve_pointer(spec: dict[str, Any], reference: str) -> Any:
    node: Any = spec
    for part in reference.removeprefix("#/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def is_iso8601_datetime(value: object) -> bool:
    """PagerDuty accepts ISO 8601 timestamps its own examples use (``+0000`` offsets), not only RFC 3339."""
    if not isinstance(value, str):
        return True
    if "T" not in value and " " not in value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def events_prose_rules(path: str, event: Any) -> list[str]:
    """The rules the Events file states only in prose."""
    if not isinstance(event, dict) or not path.endswith("/enqueue") or path.endswith("/change/enqueue"):
        return []
    action = event.get("event_action")
    problems = []
    if action == "trigger" and "payload" not in event:
        problems.append("payload: 'payload' is required for trigger events")
    if action in {"acknowledge", "resolve"} and not event.get("dedup_key"):
        problems.append(f"dedup_key: 'dedup_key' is required for {action} events")
    return problems


@dataclass
class OpenAPIValidator:
    """Validates Events and REST requests against the official files in ``spec_dir`` (parsed lazily, once)."""

    spec_dir: Path
    load_seconds: dict[str, float] = field(default_factory=dict)
    _apis: dict[str, OpenAPI] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not spec_files_present(self.spec_dir):
            raise SpecUnavailableError(f"PagerDuty OpenAPI files not found in {self.spec_dir}")

    def _api(self, file_name: str) -> OpenAPI:
        with self._lock:
            if file_name not in self._apis:
                started = time.perf_counter()
                spec = json.loads((self.spec_dir / file_name).read_text(encoding="utf-8"))
                if file_name == REST_SPEC_FILE:
                    _accept_documented_requests(spec)
                config = Config(spec_validator_cls=None, extra_format_validators={"date-time": is_iso8601_datetime})
                api = OpenAPI.from_dict(spec, config=config)
                self._warm_up(api, file_name)
                self._apis[file_name] = api
                self.load_seconds[file_name] = time.perf_counter() - started
            return self._apis[file_name]

    @staticmethod
    def _warm_up(api: OpenAPI, file_name: str) -> None:
        """Resolve the spec's lazy references once, so the first real request is not the slow one."""
        host, path = (REST_HOST, "/abilities") if file_name == REST_SPEC_FILE else (EVENTS_HOST, "/v2/enqueue")
        parameters = RequestParameters(
            path={}, query=ImmutableMultiDict(), header=Headers(), cookie=ImmutableMultiDict()
        )
        request = _Request(host, path, "get", None, "application/json", parameters)
        for _ in api.iter_request_errors(request):
            pass

    def preload(self) -> None:
        """Parse both files now (for instance on a background thread) instead of on the first request."""
        for file_name in (EVENTS_SPEC_FILE, REST_SPEC_FILE):
            self._api(file_name)

    def validate_events(self, path: str, body: Body) -> list[str]:
        """Problems with an Events API request body (``path`` is ``/v2/enqueue`` or ``/v2/change/enqueue``)."""
        raw = _encode_body(body)
        spec_path = path if path.startswith("/v2/") else "/v2" + path
        parameters = RequestParameters(
            path={}, query=ImmutableMultiDict(), header=Headers(), cookie=ImmutableMultiDict()
        )
        request = _Request(EVENTS_HOST, spec_path, "post", raw, "application/json", parameters)
        messages = _error_messages(self._api(EVENTS_SPEC_FILE).iter_request_errors(request))
        try:
            event = json.loads(raw) if raw else None
        except ValueError:
            return messages
        return messages + events_prose_rules(spec_path, event)

    def validate_rest(
        self, method: str, path: str, query: QueryParams | None, headers: Mapping[str, str], body: Body
    ) -> list[str]:
        """Problems with a REST API request, parameters and headers included."""
        header_map = Headers(list(headers.items()))
        parameters = RequestParameters(
            path={}, query=ImmutableMultiDict(_query_pairs(query)), header=header_map, cookie=ImmutableMultiDict()
        )
        content_type = header_map.get("Content-Type", "application/json")
        raw = _encode_body(body)
        request = _Request(REST_HOST, path, method.lower(), raw or None, content_type, parameters)
        return _error_messages(self._api(REST_SPEC_FILE).iter_request_errors(request))


def validator_for(spec_dir: Path) -> OpenAPIValidator:
    """The process-wide validator over ``spec_dir``: each directory's files are parsed once per process,
    however many simulators and contract tests use them (raises ``SpecUnavailableError`` if absent)."""
    return _validator_for(spec_dir.resolve())


@cache
def _validator_for(spec_dir: Path) -> OpenAPIValidator:
    return OpenAPIValidator(spec_dir)


def default_validator() -> OpenAPIValidator:
    """The process-wide validator over ``default_spec_dir()``."""
    return validator_for(default_spec_dir())


def validate_events_request(path: str, body: Body) -> list[str]:
    """Contract-test entry point: problems with an Events API request, empty when it is valid."""
    return default_validator().validate_events(path, body)


def validate_rest_request(
    method: str, path: str, query: QueryParams | None, headers: Mapping[str, str], body: Body
) -> list[str]:
    """Contract-test entry point: problems with a REST API request, empty when it is valid."""
    return default_validator().validate_rest(method, path, query, headers, body)
