"""Every configured secret can be read now (not from the cache). Values are fetched and dropped, never shown."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from typing_extensions import override

from pagerduty_utils import secrets
from pagerduty_utils.exceptions import ConfigurationError, DependencyError
from pagerduty_utils.health_monitor.report import CheckOutcome
from pagerduty_utils.health_monitor.runner import HealthCheck

SecretReader = Callable[[str], str]


def read_uncached(reference: str) -> str:
    return secrets.get_secret(reference, max_age=0)


class SecretsCheck(HealthCheck):
    """A missing or forbidden secret is unhealthy; a transient failure to fetch one is degraded."""

    name = "secrets"

    def __init__(self, references: Sequence[str], reader: SecretReader = read_uncached) -> None:
        self._references = list(dict.fromkeys(references))
        self._reader = reader

    @override
    def run(self, deadline: float) -> CheckOutcome:
        unreadable: list[str] = []
        unavailable: list[str] = []
        for reference in self._references:
            try:
                self._reader(reference)
            except ConfigurationError as exc:
                unreadable.append(str(exc))
            except DependencyError as exc:
                unavailable.append(str(exc))
        if unreadable:
            return CheckOutcome.unhealthy("; ".join(unreadable + unavailable))
        if unavailable:
            return CheckOutcome.degraded("; ".join(unavailable))
        return CheckOutcome.healthy(f"{len(self._references)} secret(s) readable")
