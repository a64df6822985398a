"""The benchmarks' figures survive the trip through --json, and the table judges each against its peer."""

from __future__ import annotations

import io

from pdutils.testing.bench_report import Figure, emit, markdown_table, parse, ratio_figure


def test_figures_round_trip_through_json() -> None:
    figures = [
        ratio_figure("batch wall", 0.9, "s", "bare httpx", 0.3, at_most=1.5),
        Figure("peak RSS", 72.5, "MB", target="< 100 MB", met=True, note="batch of 10"),
    ]
    stream = io.StringIO()
    emit(figures, as_json=True, stream=stream)
    assert parse("progress on earlier lines\n" + stream.getvalue()) == figures


def test_ratio_figure_is_judged_against_its_peer() -> None:
    assert ratio_figure("x", 0.4, "s", "bound", 0.3, at_most=1.5).met is True
    assert ratio_figure("x", 0.5, "s", "bound", 0.3, at_most=1.5).met is False
    assert ratio_figure("x", 5.0, "s", "official client", 1.0, at_most=None).met is None


def test_table_shows_each_figure_beside_its_peer_and_the_verdict() -> None:
    table = markdown_table([("forwarder", ratio_figure("batch wall", 0.9, "s", "bare httpx", 0.3, at_most=1.5))])
    row = table.splitlines()[-1]
    assert row == "| forwarder | batch wall | 0.9 s | bare httpx | 0.3 s | 3.00x | <= 1.5x | **NOT met** |"
