"""Runs every benchmark in bench/ and prints one table: each figure beside its peer from the same run.

The convention (``pdutils.testing.bench_report``): every ``bench/bench_*.py`` accepts ``--json`` and then
prints its figures as one JSON line, last on stdout; ``--quick`` is passed on to those that accept it. Each
runs in a fresh interpreter of its own, one after another, and the machine's load (``os.getloadavg``) is
read before and after each. With ``--load N``, N processes spin on the CPU for the whole run: the same
figures under load (each ratio's two sides are still measured in the same run, under the same load).

    .venv/bin/python bench/run_all.py [--quick] [--load 2] [--only forwarder]

The output is Markdown, ready for bench/RESULTS.md: the date, the commit, the interpreter, the load, the table.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pdutils.testing.bench_report import Figure, markdown_table, parse

BENCH = Path(__file__).resolve().parent
REPOSITORY = BENCH.parent


def benchmarks(only: list[str]) -> list[Path]:
    found = sorted(BENCH.glob("bench_*.py"))
    if only:
        found = [path for path in found if any(name in path.stem for name in only)]
    return found


def run(benchmark: Path, quick: bool) -> tuple[list[Figure], tuple[float, float]]:
    """The benchmark's figures, and the 1-minute load average before and after it."""
    command = [sys.executable, str(benchmark), "--json"]
    if quick and "--quick" in benchmark.read_text():
        command.append("--quick")
    load_before = os.getloadavg()[0]
    completed = subprocess.run(  # noqa: S603  # this interpreter running the repository's own benchmarks
        command, cwd=REPOSITORY, capture_output=True, text=True, check=False
    )
    load_after = os.getloadavg()[0]
    if completed.returncode != 0:
        raise RuntimeError(f"{benchmark.name} failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
    return parse(completed.stdout), (load_before, load_after)


@contextlib.contextmanager
def cpu_load(processes: int) -> Iterator[None]:
    """``processes`` interpreters spinning on the CPU until the block ends."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def commit() -> str:
    completed = subprocess.run(
        ["git", "describe", "--always", "--dirty"],  # noqa: S607  # git from PATH, as ./dev uses it
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for benchmarks that offer it")
    parser.add_argument("--load", type=int, default=0, metavar="N", help="N busy processes during the run")
    parser.add_argument("--only", action="append", default=[], help="benchmarks whose name contains this")
    args = parser.parse_args()

    started = time.monotonic()
    rows: list[tuple[str, Figure]] = []
    loads: list[str] = []
    with cpu_load(args.load):
        for benchmark in benchmarks(args.only):
            print(f"running {benchmark.name} ...", file=sys.stderr, flush=True)
            figures, (before, after) = run(benchmark, args.quick)
            name = benchmark.stem.removeprefix("bench_")
            rows += [(name, figure) for figure in figures]
            loads.append(f"{name} {before:.1f} -> {after:.1f}")

    print(
        f"`./dev bench{' --quick' if args.quick else ''}{f' --load {args.load}' if args.load else ''}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, Python {platform.python_version()} on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, {args.load} busy processes added, "
        f"{time.monotonic() - started:.0f} s"
    )
    print()
    print(f"Load average (1 min) before -> after each benchmark: {'; '.join(loads)}")
    print()
    print(markdown_table(rows), end="")
    missed = [figure for _, figure in rows if figure.met is False]
    print()
    print(f"{len(missed)} of {sum(1 for _, figure in rows if figure.met is not None)} targets not met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
