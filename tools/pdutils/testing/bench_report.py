"""The figures of the benchmarks in bench/, each beside its peer from the same run, and how they are printed.

Every ``bench/bench_*.py`` builds a list of ``Figure`` and hands it to ``emit``: as a Markdown table when run on
its own, as JSON with ``--json``, which is how ``bench/run_all.py`` (``./dev bench``) collects every benchmark
into one table. A new benchmark joins that table by following the same convention.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TextIO


@dataclass(frozen=True)
class Figure:
    """One measured figure and, measured in the same run, the peer it is judged against."""

    name: str
    value: float
    unit: str
    peer: str = ""
    """What the figure is compared with ("bare httpx, 25 in flight"); empty for an absolute target."""
    peer_value: float | None = None
    target: str = ""
    """The target as written in the table ("<= 1.5x", "< 100 MB"); empty for a figure shown for context."""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.peer_value is None or self.peer_value == 0:
            return None
        return self.value / self.peer_value


def ratio_figure(name: str, value: float, unit: str, peer: str, peer_value: float, *, at_most: float | None) -> Figure:
    """A figure judged by its ratio to the peer: met when ``value / peer_value <= at_most``."""
    met = None if at_most is None else value <= at_most * peer_value
    return Figure(name, value, unit, peer, peer_value, f"<= {at_most:g}x" if at_most is not None else "", met)


def round_spread(ours: Sequence[float], peer: Sequence[float]) -> str:
    """The middle half of the ratio ``ours / peer`` taken round by round (the two measured in the same rounds):
    how far the machine's noise moves a ratio that a single run reports as one figure."""
    ratios = [mine / theirs for mine, theirs in zip(ours, peer, strict=True)]
    if len(ratios) < 4:  # quartiles of fewer rounds say nothing
        return ""
    low, _, high = statistics.quantiles(ratios, n=4)
    return f"round by round {low:.2f}-{high:.2f}x (middle half)"


def emit(figures: Sequence[Figure], *, as_json: bool, stream: TextIO = sys.stdout) -> None:
    if as_json:
        stream.write(json.dumps([asdict(figure) for figure in figures]) + "\n")
        return
    stream.write(markdown_table([("", figure) for figure in figures], with_benchmark=False))


def parse(document: str) -> list[Figure]:
    """The figures a benchmark printed with ``--json`` (its last line of output)."""
    return [Figure(**item) for item in json.loads(document.strip().splitlines()[-1])]


def markdown_table(rows: Sequence[tuple[str, Figure]], *, with_benchmark: bool = True) -> str:
    header = ["figure", "ours", "peer (same run)", "peer", "ratio", "target", "result"]
    if with_benchmark:
        header.insert(0, "benchmark")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for benchmark, figure in rows:
        cells = [
            figure.name + (f" ({figure.note})" if figure.note else ""),
            _quantity(figure.value, figure.unit),
            figure.peer or "-",
            _quantity(figure.peer_value, figure.unit) if figure.peer_value is not None else "-",
            f"{figure.ratio:.2f}x" if figure.ratio is not None else "-",
            figure.target or "-",
            {True: "met", False: "**NOT met**", None: "-"}[figure.met],
        ]
        if with_benchmark:
            cells.insert(0, benchmark)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _quantity(value: float, unit: str) -> str:
    if value == int(value) and abs(value) >= 10:
        return f"{value:.0f} {unit}".strip()
    return f"{value:.3g} {unit}".strip() if abs(value) < 10 else f"{value:.1f} {unit}".strip()
