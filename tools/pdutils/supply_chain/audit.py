"""``./dev audit``: pip-audit over the hashed locks, with a verdict that never mistakes "not audited" for "clean".

pip-audit asks a vulnerability service (PyPI's JSON API by default, OSV with ``--vulnerability-service osv``)
about every pinned version. Where that service is unreachable, pip-audit skips the package and still exits 0;
this wrapper counts the skips and fails with its own exit code instead::

    python -m pdutils.supply_chain.audit [--service osv] .tools/supply-chain/bin/pip-audit requirements/dev.txt ...

Exit codes: 0 every package audited and none vulnerable, 1 vulnerabilities found, 3 some or all packages could not
be audited (nothing is known about them).
"""

from __future__ import annotations

import argparse
import json
import subprocess  # nosec B404  # runs only the pip-audit executable the caller names
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

CLEAN = 0
VULNERABLE = 1
NOT_AUDITED = 3


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    lines: list[str]


def verdict(report: Mapping[str, Any]) -> Verdict:
    """Judge pip-audit's JSON report: vulnerabilities first, then whatever could not be audited."""
    dependencies: list[Mapping[str, Any]] = list(report.get("dependencies") or [])
    skipped = [dependency for dependency in dependencies if dependency.get("skip_reason")]
    vulnerable = [dependency for dependency in dependencies if dependency.get("vulns")]
    lines = [
        f"{dependency['name']} {dependency['version']}: {vuln['id']}"
        + (f" (fixed in {', '.join(vuln['fix_versions'])})" if vuln.get("fix_versions") else " (no fix yet)")
        for dependency in vulnerable
        for vuln in dependency["vulns"]
    ]
    if skipped:
        lines.append(
            f"{len(skipped)} of {len(dependencies)} packages could NOT be audited, so nothing is known about them "
            f"(is the vulnerability service reachable from this network?), e.g. {skipped[0]['skip_reason']}"
        )
    if vulnerable:
        return Verdict(
            VULNERABLE, [*lines, f"{len(vulnerable)} vulnerable package(s): raise their floors, then ./dev lock"]
        )
    if skipped:
        return Verdict(NOT_AUDITED, lines)
    if not dependencies:
        return Verdict(NOT_AUDITED, ["pip-audit reported no packages: nothing was audited"])
    return Verdict(CLEAN, [f"{len(dependencies)} packages audited: no known vulnerabilities"])


def run_pip_audit(pip_audit: Path, locks: Sequence[Path], service: str) -> Verdict:
    requirements = [argument for lock in locks for argument in ("--requirement", str(lock))]
    command = [str(pip_audit), "--format", "json", "--progress-spinner", "off", "--disable-pip", "--no-deps"]
    try:
        completed = subprocess.run(  # noqa: S603  # nosec B603  # the pip-audit executable named, an argument list, no shell
            [*command, "--vulnerability-service", service, *requirements], capture_output=True, text=True, check=False
        )
        report = json.loads(completed.stdout)
    except OSError as exc:
        return _not_run(str(exc))
    except json.JSONDecodeError:
        return _not_run((completed.stderr.strip().splitlines() or ["no output"])[-1])
    return verdict(report)


def _not_run(detail: str) -> Verdict:
    return Verdict(NOT_AUDITED, [f"pip-audit could not run, nothing was audited: {detail}"])


def main(argv: Sequence[str] | None = None, stream: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description="Audit hashed locks with pip-audit; fail when nothing is known.")
    parser.add_argument("--service", choices=["pypi", "osv"], default="pypi", help="vulnerability service to ask")
    parser.add_argument("pip_audit", type=Path, help="the pip-audit executable")
    parser.add_argument("locks", type=Path, nargs="+", help="lock files (pinned, hashed requirements)")
    args = parser.parse_args(argv)
    result = run_pip_audit(args.pip_audit, args.locks, args.service)
    for line in result.lines:
        print(f"dev audit: {line}", file=stream)
    return result.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
