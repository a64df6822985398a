"""PagerDuty from the outside: the REST token works (``GET /abilities``), and the Events API host answers.

The Events API has no probe endpoint, and any event sent would open or touch an alert, so reachability is a
TCP connection and a TLS handshake with certificate verification against the configured host (a plain TCP
connection for an ``http://`` URL, as in local runs against the simulator); nothing is sent.
"""

from __future__ import annotations

import socket
import ssl
from abc import ABC, abstractmethod
from urllib.parse import urlsplit

from typing_extensions import override

from pagerduty_utils import secrets
from pagerduty_utils.api_client.errors import AuthenticationError, PagerDutyAPIError, RateLimitedError
from pagerduty_utils.api_client.rest import PagerDutyAPIClientSync
from pagerduty_utils.api_client.retry import RetryPolicy
from pagerduty_utils.api_client.transport import Timeouts
from pagerduty_utils.exceptions import ConfigurationError, DependencyError
from pagerduty_utils.health_monitor.report import CheckOutcome
from pagerduty_utils.health_monitor.runner import HealthCheck, remaining
from pagerduty_utils.metrics_collector import MetricsCollector


class AbilitiesProbe(ABC):
    """The one REST call the health check makes. One attempt, bounded by the deadline: no retries."""

    @abstractmethod
    def abilities(self, deadline: float) -> list[str]:
        """The account's abilities; raises ``PagerDutyAPIError`` subclasses (or a secret's error)."""


class RestClientAbilitiesProbe(AbilitiesProbe):
    """``GET /abilities`` through the project's REST client: a single attempt, the token read afresh each run
    (a cached token would hide a revoked or deleted secret for the cache's lifetime)."""

    def __init__(
        self,
        *,
        token_secret_id: str,
        api_base_url: str,
        timeouts: Timeouts,
        metrics: MetricsCollector | None = None,
    ) -> None:
        self._token_secret_id = token_secret_id
        self._api_base_url = api_base_url
        self._timeouts = timeouts
        self._metrics = metrics

    @override
    def abilities(self, deadline: float) -> list[str]:
        client = PagerDutyAPIClientSync(
            secrets.get_secret(self._token_secret_id, max_age=0),
            base_url=self._api_base_url,
            retry=RetryPolicy(max_attempts=1),
            timeouts=self._timeouts,
            metrics=self._metrics,
        )
        return client.get_abilities(deadline=deadline)


class PagerDutyRestCheck(HealthCheck):
    """200: healthy. 401/403: unhealthy (credentials). 429: degraded (working, out of budget). 5xx: unhealthy."""

    name = "pagerduty_rest"

    def __init__(self, probe: AbilitiesProbe, *, api_base_url: str) -> None:
        self._probe = probe
        self._api_base_url = api_base_url

    @override
    def run(self, deadline: float) -> CheckOutcome:
        try:
            abilities = self._probe.abilities(deadline)
        except AuthenticationError as exc:
            return CheckOutcome.unhealthy(self._credentials_reason(exc))
        except RateLimitedError as exc:
            wait = f", retry after {exc.retry_after:.0f}s" if exc.retry_after is not None else ""
            return CheckOutcome.degraded(f"token accepted but rate limited (429){wait}")
        except PagerDutyAPIError as exc:
            return CheckOutcome.unhealthy(f"{self._api_base_url}: {exc}")
        except ConfigurationError as exc:
            return CheckOutcome.unhealthy(f"REST token unavailable: {exc}")
        except DependencyError as exc:
            return CheckOutcome.degraded(f"REST token could not be fetched: {exc}")
        return CheckOutcome.healthy(f"token accepted by {self._api_base_url} ({len(abilities)} abilities)")

    def _credentials_reason(self, exc: AuthenticationError) -> str:
        reason = f"credentials refused by {self._api_base_url} (HTTP {exc.status})"
        if exc.status == 401:
            reason += ": token revoked or wrong, or issued in the other PagerDuty region (check PAGERDUTY_REGION)"
        elif exc.status == 403:
            reason += ": the token lacks access to the account's abilities"
        return reason


class EventsReachabilityCheck(HealthCheck):
    """Connect (and for https, complete a verified TLS handshake) to the Events API host; send nothing."""

    name = "pagerduty_events"

    def __init__(
        self, events_base_url: str, *, connect_timeout: float, tls_context: ssl.SSLContext | None = None
    ) -> None:
        parts = urlsplit(events_base_url)
        self._use_tls = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._use_tls else 80)
        self._connect_timeout = connect_timeout
        self._tls_context = tls_context

    @override
    def run(self, deadline: float) -> CheckOutcome:
        target = f"{self._host}:{self._port}"
        timeout = min(self._connect_timeout, remaining(deadline))
        try:
            with socket.create_connection((self._host, self._port), timeout=timeout) as connection:
                if not self._use_tls:
                    return CheckOutcome.healthy(f"TCP connection to {target} (plain HTTP: no TLS to check)")
                context = self._tls_context or ssl.create_default_context()
                with context.wrap_socket(connection, server_hostname=self._host) as tls:
                    return CheckOutcome.healthy(f"{tls.version()} handshake with {target}, certificate verified")
        except ssl.SSLCertVerificationError as exc:
            return CheckOutcome.unhealthy(f"TLS certificate of {target} rejected: {exc.verify_message}")
        except ssl.SSLError as exc:
            return CheckOutcome.unhealthy(f"TLS handshake with {target} failed: {exc.reason}")
        except TimeoutError:
            return CheckOutcome.unhealthy(f"no connection to {target} within {timeout:.1f}s")
        except OSError as exc:
            return CheckOutcome.unhealthy(f"cannot connect to {target}: {exc.strerror or type(exc).__name__}")
