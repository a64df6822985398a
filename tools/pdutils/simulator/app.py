"""The simulator without its transport: one request in, one ``Reply`` out, every request recorded.

Order of checks, as PagerDuty applies them: REST requests are authenticated (401), throttled per token (429),
routed (404/405) and validated against the OpenAPI file (400) before they act; Events API requests are
parsed, validated (400), checked for a well-formed routing key and throttled per routing key (429).

The ``/_sim/`` control plane answers only requests that carry the configured token in ``X-Pdutils-Sim-Token``
(401) and no browser's marks (``Origin``, ``Referer``, ``Sec-Fetch-*``: 403), so a web page open in the
developer's browser can neither steer nor read it. Recorded requests keep the scheme of their
``Authorization`` header, never the credential.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pdutils.simulator.config import CONTROL_TOKEN_HEADER, SimulatorConfig
from pdutils.simulator.events import EventsAPI
from pdutils.simulator.faults import Fault, FaultInjector
from pdutils.simulator.incidents import IncidentLifecycle
from pdutils.simulator.openapi import OpenAPIValidator, SpecUnavailableError, default_spec_dir, validator_for
from pdutils.simulator.ratelimit import SlidingWindowLimiter
from pdutils.simulator.replies import EVENTS_PATH_PREFIX, APIError, Reply
from pdutils.simulator.rest import RestAPI, RestRequest
from pdutils.simulator.state import RecordedRequest, SimulatorState, utc_now
from pdutils.simulator.webhooks import WebhookDispatcher

logger = logging.getLogger(__name__)

EVENTS_PATHS = frozenset({"/v2/enqueue", "/v2/change/enqueue"})
CONTROL_PREFIX = "/_sim/"
TOKEN_PREFIX = "Token token="  # the Authorization scheme, not a secret  # noqa: S105  # nosec B105
BROWSER_HEADERS = ("origin", "referer", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest")
REDACTED = "[redacted]"


def build_validator(config: SimulatorConfig) -> OpenAPIValidator | None:
    """The OpenAPI validator, or None (said in the log) when validation is off or the files are missing."""
    if not config.validate:
        logger.warning("PagerDuty simulator: OpenAPI validation disabled by configuration")
        return None
    spec_dir = config.spec_dir or default_spec_dir()
    try:
        return validator_for(spec_dir)
    except SpecUnavailableError:
        logger.warning("PagerDuty simulator: no OpenAPI files in %s, requests are NOT validated", spec_dir)
        return None


def _redacted(name: str, value: str) -> str:
    """A header as recorded: an ``Authorization`` value keeps its scheme only."""
    if name.lower() != "authorization":
        return value
    scheme = value.split(" ", 1)[0] if " " in value else ""
    return f"{scheme} {REDACTED}".strip()


def _decode_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise APIError(400, ["Request body is not valid JSON"]) from None


@dataclass
class Simulator:
    config: SimulatorConfig = field(default_factory=SimulatorConfig)
    state: SimulatorState = field(default_factory=SimulatorState)

    def __post_init__(self) -> None:
        self.validator = build_validator(self.config)
        self.faults = FaultInjector(seed=self.config.seed)
        self.valid_tokens: set[str] = set(self.config.valid_tokens)
        self.webhooks = WebhookDispatcher(
            self.state,
            retry_delays=self.config.webhook_retry_delays,
            timeout_seconds=self.config.webhook_timeout_seconds,
            allowed_hosts=self.config.webhook_hosts,
        )
        self.lifecycle = IncidentLifecycle(self.state, self.webhooks)
        self.events_limiter = SlidingWindowLimiter(self.config.events_rate_limit_per_minute)
        self.rest_limiter = SlidingWindowLimiter(self.config.rest_rate_limit_per_minute)
        self.events = EventsAPI(self.state, self.lifecycle, self.events_limiter)
        self.rest = RestAPI(self.state, self.lifecycle)
        self._reset_lock = threading.Lock()

    def set_public_url(self, url: str) -> None:
        """The base URL the simulator is reached at (used in ``self`` links of REST objects)."""
        self.lifecycle.api_url = url

    def reset(self) -> None:
        """A fresh start: no state, faults, subscriptions, throttling history, changed limits or extra tokens."""
        with self._reset_lock:
            self.faults.clear()
            self.faults.reseed()
            self.webhooks.reset()
            self.events_limiter.reset()
            self.events_limiter.limit = self.config.events_rate_limit_per_minute
            self.rest_limiter.reset()
            self.rest_limiter.limit = self.config.rest_rate_limit_per_minute
            self.valid_tokens.clear()
            self.valid_tokens.update(self.config.valid_tokens)
            self.state.clear()

    def record(
        self, method: str, path: str, query: Mapping[str, Sequence[str]], headers: Mapping[str, str], raw: bytes
    ) -> RecordedRequest:
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", errors="replace")
        recorded = RecordedRequest(
            method=method,
            path=path,
            query={name: list(values) for name, values in query.items()},
            headers={name: _redacted(name, value) for name, value in headers.items()},
            body=body,
            received_at=utc_now(),
        )
        with self.state.lock:
            self.state.requests.append(recorded)
            del self.state.requests[: -self.config.max_recorded_requests]
        return recorded

    def process(
        self,
        recorded: RecordedRequest,
        query: Mapping[str, Sequence[str]],
        headers: Mapping[str, str],
        raw: bytes,
    ) -> Reply:
        """Answer one PagerDuty request (``headers`` keys lower-case)."""
        try:
            if recorded.path in EVENTS_PATHS:
                return self._events(recorded, raw)
            if recorded.path.startswith(EVENTS_PATH_PREFIX):
                raise APIError(404, [f"{recorded.path} is not an Events API path"], message="Not Found")
            return self._rest(recorded, query, headers, raw)
        except APIError as error:
            return error.reply(recorded.path)

    def _events(self, recorded: RecordedRequest, raw: bytes) -> Reply:
        if recorded.method != "POST":
            raise APIError(405, [f"{recorded.method} is not allowed on {recorded.path}"], message="Method Not Allowed")
        try:
            event = json.loads(raw)
        except ValueError:
            raise APIError(400, ["JSON parse error"], message="Event object format is unrecognized") from None
        if self.validator is not None:
            recorded.validated = True
            recorded.validation_errors = self.validator.validate_events(recorded.path, raw)
            if recorded.validation_errors:
                raise APIError(400, recorded.validation_errors)
        if recorded.path == "/v2/change/enqueue":
            return self.events.change(event, len(raw))
        return self.events.enqueue(event, len(raw))

    def _rest(
        self, recorded: RecordedRequest, query: Mapping[str, Sequence[str]], headers: Mapping[str, str], raw: bytes
    ) -> Reply:
        token = headers.get("authorization", "").removeprefix(TOKEN_PREFIX)
        if not headers.get("authorization", "").startswith(TOKEN_PREFIX) or token not in self.valid_tokens:
            raise APIError(401)
        decision = self.rest_limiter.check(token)
        if not decision.allowed:
            raise APIError(429, headers=decision.headers())
        request = RestRequest(recorded.method, recorded.path, query, headers, _decode_json(raw))
        handler, params = self.rest.resolve(request)
        if self.validator is not None:
            recorded.validated = True
            recorded.validation_errors = self.validator.validate_rest(
                recorded.method, recorded.path, [(k, v) for k, vs in query.items() for v in vs], headers, raw
            )
            if recorded.validation_errors:
                raise APIError(400, recorded.validation_errors, headers=decision.headers())
        reply = handler(request, params)
        reply.headers.update(decision.headers())
        return reply

    def control(self, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> Reply:
        """The ``/_sim/`` control plane, for other processes and the CLI (``headers`` keys lower-case)."""
        if any(name in headers for name in BROWSER_HEADERS):
            return Reply(403, {"error": {"message": "the control plane refuses requests from a browser"}})
        token = headers.get(CONTROL_TOKEN_HEADER.lower(), "")
        if not hmac.compare_digest(token.encode(), self.config.control_token.encode()):
            return Reply(401, {"error": {"message": "control requests need the X-Pdutils-Sim-Token header"}})
        try:
            return self._control(method, path.removeprefix(CONTROL_PREFIX).rstrip("/"), _decode_json(raw))
        except (ValueError, TypeError, KeyError) as error:
            return Reply(400, {"error": {"message": f"invalid control request: {error}"}})

    def _control(self, method: str, route: str, body: Any) -> Reply:
        actions: dict[tuple[str, str], Callable[[Any], Reply]] = {
            ("GET", "state"): lambda _: Reply(200, self.describe()),
            ("POST", "reset"): self._control_reset,
            ("GET", "faults"): lambda _: Reply(200, {"faults": [fault.to_dict() for fault in self.faults.pending]}),
            ("POST", "faults"): self._control_inject,
            ("DELETE", "faults"): self._control_clear_faults,
            ("GET", "webhooks"): lambda _: Reply(200, {"subscriptions": self._subscriptions()}),
            ("POST", "webhooks"): self._control_subscribe,
        }
        action = actions.get((method, route))
        if action is None:
            return Reply(404, {"error": {"message": f"no control route {method} /_sim/{route}"}})
        return action(body)

    def _control_reset(self, _: Any) -> Reply:
        self.reset()
        return Reply(200, {"status": "reset"})

    def _control_inject(self, body: Any) -> Reply:
        fault = Fault.from_dict(body or {})
        self.faults.add(fault)
        return Reply(201, {"fault": fault.to_dict()})

    def _control_clear_faults(self, _: Any) -> Reply:
        self.faults.clear()
        return Reply(200, {"faults": []})

    def _control_subscribe(self, body: Any) -> Reply:
        document = body or {}
        subscription = self.webhooks.subscribe(
            str(document["url"]), str(document["secret"]), document.get("event_types")
        )
        return Reply(201, {"subscription": subscription.to_dict()})

    def _subscriptions(self) -> list[dict[str, Any]]:
        return [subscription.to_dict() for subscription in self.webhooks.subscriptions]

    def describe(self) -> dict[str, Any]:
        """Everything ``GET /_sim/state`` shows."""
        validation: dict[str, Any] = {"enabled": self.validator is not None}
        if self.validator is not None:
            validation["spec_dir"] = str(self.validator.spec_dir)
            validation["load_seconds"] = dict(self.validator.load_seconds)
        return {
            **self.state.to_dict(),
            "faults": [fault.to_dict() for fault in self.faults.pending],
            "subscriptions": self._subscriptions(),
            "validation": validation,
        }
