"""The library's counters and timings in Prometheus's text exposition format, for use outside Lambda.

In Lambda, metrics are CloudWatch EMF (``metrics_collector``): written to the log, no server to scrape. In a
container, a long-running process or the local runtime, attach a registry to the collector and serve
``render()`` at ``/metrics``::

    registry = metrics_collector.expose_prometheus()
    body, content_type = registry.render(), CONTENT_TYPE

The same names and dimensions as EMF: a metric ``PagerDutyApiCall`` (unit Count) with dimension
``StatusClass`` becomes the counter ``<namespace>_pager_duty_api_call_total{status_class="2xx"}``; a timing
(Milliseconds or Seconds) becomes a histogram in seconds, ``<namespace>_pager_duty_api_latency_seconds``; any
other unit is a gauge holding the last value. ``observe_emf`` reads an EMF document, so a process that only
sees its functions' logs (the local runtime) exposes what CloudWatch would have received.
Values that are not finite numbers are dropped, as in EMF.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds; from a fast cache read to a retried call near the Lambda timeout.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_TIMING_UNITS = {"Milliseconds": 0.001, "Microseconds": 0.000001, "Seconds": 1.0}
_COUNT_UNIT = "Count"
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_INVALID_NAME_CHARACTERS = re.compile(r"[^a-zA-Z0-9_]")

Labels = tuple[tuple[str, str], ...]


def metric_name(*parts: str) -> str:
    """``PagerDutyApiCall`` -> ``pager_duty_api_call``; parts joined by ``_``, only ``[a-z0-9_]`` kept."""
    snake = "_".join(_CAMEL_BOUNDARY.sub("_", part) for part in parts if part)
    name = _INVALID_NAME_CHARACTERS.sub("_", snake).lower()
    return f"_{name}" if name[:1].isdigit() else name


@dataclass
class _Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        if not self.counts:
            self.counts = [0] * len(self.buckets)
        index = bisect.bisect_left(self.buckets, value)
        for position in range(index, len(self.buckets)):
            self.counts[position] += 1
        self.total += value
        self.count += 1


@dataclass
class _Family:
    kind: str  # counter, gauge or histogram
    help_text: str
    samples: dict[Labels, Any] = field(default_factory=dict)


class PrometheusRegistry:
    """Thread-safe counters, gauges and histograms keyed by name and labels."""

    def __init__(self, namespace: str = "pagerduty_utils", *, buckets: tuple[float, ...] = DEFAULT_BUCKETS) -> None:
        self._namespace = metric_name(namespace)
        self._buckets = tuple(sorted(buckets))
        self._families: dict[str, _Family] = {}
        self._lock = threading.Lock()

    def observe(self, name: str, unit: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        """One value of metric ``name`` (EMF unit ``unit``, e.g. ``Count``, ``Milliseconds``) with ``labels``."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return
        key = tuple(sorted((metric_name(label), str(label_value)) for label, label_value in (labels or {}).items()))
        help_text = f"{name} ({unit})"
        with self._lock:
            if unit == _COUNT_UNIT:
                family = self._family(metric_name(self._namespace, name) + "_total", "counter", help_text)
                family.samples[key] = family.samples.get(key, 0.0) + value
            elif unit in _TIMING_UNITS:
                family = self._family(metric_name(self._namespace, name) + "_seconds", "histogram", help_text)
                histogram = family.samples.setdefault(key, _Histogram(self._buckets))
                histogram.observe(value * _TIMING_UNITS[unit])
            else:
                family = self._family(metric_name(self._namespace, name), "gauge", help_text)
                family.samples[key] = float(value)

    def observe_emf(self, document: Mapping[str, Any]) -> None:
        """Every metric of one EMF document, labelled with its dimensions; anything else is ignored."""
        metadata = document.get("_aws")
        directives = metadata.get("CloudWatchMetrics") if isinstance(metadata, Mapping) else None
        for directive in directives if isinstance(directives, list) else []:
            dimension_sets = directive.get("Dimensions") or [[]]
            labels = {str(name): str(document.get(name, "")) for name in dimension_sets[0]}
            for metric in directive.get("Metrics", []):
                name, unit = str(metric.get("Name", "")), str(metric.get("Unit", "None"))
                values = document.get(name)
                for value in values if isinstance(values, list) else [values]:
                    if isinstance(value, int | float):
                        self.observe(name, unit, value, labels)

    def render(self) -> str:
        """The text exposition (format 0.0.4) of everything observed so far."""
        lines: list[str] = []
        with self._lock:
            for name, family in sorted(self._families.items()):
                lines.append(f"# HELP {name} {_escape_help(family.help_text)}")
                lines.append(f"# TYPE {name} {family.kind}")
                for labels, sample in sorted(family.samples.items()):
                    if isinstance(sample, _Histogram):
                        lines.extend(self._histogram_lines(name, labels, sample))
                    else:
                        lines.append(f"{name}{_labels(labels)} {_number(sample)}")
        return "\n".join(lines) + "\n" if lines else ""

    def _family(self, name: str, kind: str, help_text: str) -> _Family:
        family = self._families.get(name)
        if family is None:
            family = self._families[name] = _Family(kind, help_text)
        return family

    def _histogram_lines(self, name: str, labels: Labels, histogram: _Histogram) -> Iterable[str]:
        counts = histogram.counts or [0] * len(self._buckets)
        for bound, count in zip(self._buckets, counts, strict=True):
            yield f"{name}_bucket{_labels((*labels, ('le', _number(bound))))} {count}"
        yield f"{name}_bucket{_labels((*labels, ('le', '+Inf')))} {histogram.count}"
        yield f"{name}_sum{_labels(labels)} {_number(histogram.total)}"
        yield f"{name}_count{_labels(labels)} {histogram.count}"


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape_label(value)}"' for name, value in labels) + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
