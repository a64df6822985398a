"""Every configured secret is in place now (not from a cache), proven from its metadata: no value is read.

The health checker uses one secret value, the REST API token, and its PagerDuty check reads that one. The
others (routing keys, webhook signing secrets, health token keys) belong to the other functions, so the
checker's role may describe them but not read them (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from typing_extensions import override

from pagerduty_utils import secrets
from pagerduty_utils.exceptions import ConfigurationError, DependencyError
from pagerduty_utils.health_monitor.report import CheckOutcome
from pagerduty_utils.health_monitor.runner import HealthCheck

SecretPresence = Callable[[str], None]


class SecretsCheck(HealthCheck):
    """A missing, deleted or forbidden secret is unhealthy; a transient failure to look one up is degraded."""

    name = "secrets"

    def __init__(self, references: Sequence[str], confirm: SecretPresence = secrets.confirm_exists) -> None:
        self._references = list(dict.fromkeys(references))
        self._confirm = confirm

    @override
    def run(self, deadline: float) -> CheckOutcome:
        missing: list[str] = []
        unavailable: list[str] = []
        for reference in self._references:
            try:
                self._confirm(reference)
            except ConfigurationError as exc:
                missing.append(str(exc))
            except DependencyError as exc:
                unavailable.append(str(exc))
        if missing:
            return CheckOutcome.unhealthy("; ".join(missing + unavailable))
        if unavailable:
            return CheckOutcome.degraded("; ".join(unavailable))
        return CheckOutcome.healthy(f"{len(self._references)} secret(s) in place")
