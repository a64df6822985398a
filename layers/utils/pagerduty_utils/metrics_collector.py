"""Counters and timings as CloudWatch EMF, on top of the shared Powertools ``metrics``.

Metrics without extra dimensions join the invocation's document (the shared ``metrics`` object, flushed by the
handler's ``@metrics.log_metrics``). Metrics with their own dimensions cannot share that document, whose
dimensions apply to every metric in it, so they are written at once as a separate document, serialised by
Powertools (an ``EphemeralMetrics`` kept per dimension set), carrying the shared object's service and default
dimensions. Writing at once needs no flush from the handler, so nothing is lost when a container is reclaimed.

EMF limits are respected: Powertools flushes a document when it reaches 100 metrics, and a document never gets
more than 29 dimensions (the last ones given are dropped, with a warning). A metric that cannot be recorded is
logged and dropped: metrics never fail the call they measure. NaN and infinite values are dropped the same way
(JSON has no such numbers, and CloudWatch would reject the whole document).

Outside Lambda the same metrics can also be scraped: ``expose_prometheus()`` attaches a ``PrometheusRegistry``
(``pagerduty_utils.prometheus``) that every recorded value also goes to.
"""

from __future__ import annotations

import json
import math
import os
from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import (
    EphemeralMetrics,
    MetricResolution,
    MetricUnit,
    MetricValueError,
    SchemaValidationError,
)
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.exceptions import (
    MetricNameError,
    MetricResolutionError,
    MetricUnitError,
)

from pagerduty_utils.observability import logger, metrics

if TYPE_CHECKING:
    from pagerduty_utils.prometheus import PrometheusRegistry

MAX_DIMENSIONS = 29
DEFAULT_NAMESPACE = "PagerDutyUtils"

# Documents kept for reuse, one per dimension set; more sets than this means unbounded dimension values.
_MAX_CACHED_DOCUMENTS = 128

_METRIC_ERRORS = (MetricNameError, MetricValueError, MetricUnitError, MetricResolutionError, SchemaValidationError)


class MetricsCollector:
    """``count``, ``timing`` and ``api_call`` metrics; dimensions are keyword arguments with string values."""

    def __init__(
        self,
        shared: Metrics | None = None,
        *,
        namespace: str | None = None,
        prometheus: PrometheusRegistry | None = None,
    ) -> None:
        self._shared = shared or metrics
        self._namespace = namespace
        self.prometheus = prometheus
        self._documents: dict[tuple[object, ...], EphemeralMetrics] = {}
        self._checked_names: set[tuple[str, MetricUnit]] = set()
        self._enabled: bool | None = None

    @property
    def namespace(self) -> str:
        """The explicit namespace, else the shared object's, else POWERTOOLS_METRICS_NAMESPACE, else a default.

        Resolved on first use (not at import) and then kept, like the rest of the container's configuration.
        """
        if self._namespace is None:
            self._namespace = (
                self._shared.provider.namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
            )
        return self._namespace

    @property
    def enabled(self) -> bool:
        """False when POWERTOOLS_METRICS_DISABLED (or POWERTOOLS_DEV) says so; read on first use."""
        if self._enabled is None:
            self._enabled = not is_metrics_disabled()
        return self._enabled

    def expose_prometheus(self, registry: PrometheusRegistry | None = None) -> PrometheusRegistry:
        """Also send every value to ``registry`` (a new one by default, named after the namespace); returns it."""
        if registry is None:
            from pagerduty_utils.prometheus import PrometheusRegistry  # noqa: PLC0415  # outside Lambda only

            registry = PrometheusRegistry(self.namespace)
        self.prometheus = registry
        return registry

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        self.record({name: (MetricUnit.Count, value)}, dimensions)

    def timing(self, name: str, milliseconds: float, **dimensions: str) -> None:
        self.record({name: (MetricUnit.Milliseconds, milliseconds)}, dimensions)

    def api_call(self, operation: str, status_code: int | None, latency_ms: float, retries: int) -> None:
        """One call to PagerDuty: how many, how long, how many retries, per operation and status class.

        ``status_code`` is None when no HTTP answer came back (timeout, dropped connection); the exact status
        goes into the document as metadata (searchable in Logs Insights) rather than as a dimension, to keep
        the number of metric streams small.
        """
        status_class = "network_error" if status_code is None else f"{status_code // 100}xx"
        self.record(
            {
                "PagerDutyApiCall": (MetricUnit.Count, 1),
                "PagerDutyApiLatency": (MetricUnit.Milliseconds, latency_ms),
                "PagerDutyApiRetries": (MetricUnit.Count, retries),
            },
            {"Operation": operation, "StatusClass": status_class},
            metadata={"status_code": status_code},
        )

    def record(
        self,
        values: dict[str, tuple[MetricUnit, float]],
        dimensions: dict[str, str],
        *,
        metadata: dict[str, object] | None = None,
    ) -> None:
        """Record several metrics sharing ``dimensions`` (an empty mapping: the invocation's document)."""
        not_finite = sorted(name for name, (_, value) in values.items() if _is_not_finite(value))
        if not_finite:
            logger.warning("metric dropped", extra={"metrics": not_finite, "reason": "not a finite number"})
            values = {name: entry for name, entry in values.items() if name not in not_finite}
            if not values:
                return
        if self.prometheus is not None:
            self._observe(self.prometheus, values, dimensions)
        try:
            if dimensions:
                self._write_document(values, dimensions, metadata or {})
            else:
                for name, (unit, value) in values.items():
                    self._shared.add_metric(name=name, unit=unit, value=value)
        except _METRIC_ERRORS as exc:
            logger.warning("metric dropped", extra={"metrics": sorted(values), "reason": str(exc)})

    def _write_document(
        self,
        values: dict[str, tuple[MetricUnit, float]],
        dimensions: dict[str, str],
        metadata: dict[str, object],
    ) -> None:
        if not self.enabled:
            return
        document = self._document_for(dimensions)
        metric_set = {name: self._checked_metric(document, name, unit, value) for name, (unit, value) in values.items()}
        emf = document.serialize_metric_set(metrics=metric_set, dimensions=document.dimension_set, metadata=metadata)
        try:
            line = json.dumps(emf, separators=(",", ":"), allow_nan=False)
        except ValueError:
            raise MetricValueError("metadata holds a value that is not a finite number") from None
        print(line)  # EMF is read from stdout

    def _observe(
        self, registry: PrometheusRegistry, values: dict[str, tuple[MetricUnit, float]], dimensions: dict[str, str]
    ) -> None:
        service = self._shared.provider.service
        labels = {**({"service": service} if service else {}), **dimensions}
        for name, (unit, value) in values.items():
            registry.observe(name, unit.value, value, labels)

    def _checked_metric(
        self, document: EphemeralMetrics, name: str, unit: MetricUnit, value: float
    ) -> dict[str, object]:
        """One metric entry for the document, checked by Powertools the first time its name is seen.

        Adding every value through ``add_metric`` costs more than the rest of a PagerDuty call's bookkeeping,
        so a (name, unit) pair goes through it once and later values only need to be numbers.
        """
        if (name, unit) not in self._checked_names:
            document.add_metric(name=name, unit=unit, value=value)
            document.clear_metrics()
            self._checked_names.add((name, unit))
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise MetricValueError(f"{value!r} is not a valid number")
        return {"Unit": unit.value, "StorageResolution": MetricResolution.Standard.value, "Value": [float(value)]}

    def _document_for(self, dimensions: dict[str, str]) -> EphemeralMetrics:
        """A document with these dimensions, kept for reuse: building one costs more than writing it."""
        service = self._shared.provider.service
        all_dimensions = {**({"service": service} if service else {}), **self._shared.provider.default_dimensions}
        all_dimensions.update(dimensions)
        if len(all_dimensions) > MAX_DIMENSIONS:
            names = list(all_dimensions)
            logger.warning("too many metric dimensions", extra={"dropped_dimensions": names[MAX_DIMENSIONS:]})
            all_dimensions = {name: all_dimensions[name] for name in names[:MAX_DIMENSIONS]}
        key = (self.namespace, *((name, str(value)) for name, value in all_dimensions.items()))
        document = self._documents.get(key)
        if document is None:
            if len(self._documents) >= _MAX_CACHED_DOCUMENTS:
                self._documents.clear()
            document = EphemeralMetrics(namespace=self.namespace, service=service)
            document.set_default_dimensions(**{name: str(value) for name, value in all_dimensions.items()})
            self._documents[key] = document
        return document


def _is_not_finite(value: object) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


metrics_collector = MetricsCollector()
