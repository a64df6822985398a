"""The benchmarks' figures survive the trip through --json, and the table judges each against its peer."""

from __future__ import annotations

import io

import pytest

from pdutils.testing.bench_report import Figure, emit, markdown_table, parse, ratio_figure, round_spread


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


def test_round_spread_is_the_middle_half_of_the_ratios_round_by_round() -> None:
    ours = [110.0, 130.0, 120.0, 160.0, 100.0, 140.0, 150.0]
    peer = [100.0] * 7

    assert round_spread(ours, peer) == "round by round 1.10-1.50x (middle half)"


def test_round_spread_pairs_rounds_and_needs_a_few_of_them() -> None:
    assert round_spread([200.0, 100.0, 300.0, 400.0], [100.0, 50.0, 150.0, 200.0]) == (
        "round by round 2.00-2.00x (middle half)"
    )
    assert round_spread([1.0, 2.0, 3.0], [1.0, 1.0, 1.0]) == ""
    with pytest.raises(ValueError, match="shorter"):
        round_spread([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0])
