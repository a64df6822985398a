"""Read the pinned requirements of a lock file written by ``uv pip compile`` (``name==version`` per package).

Run as a module, it checks that a lock still covers pyproject.toml before anything is installed from it, with the
interpreter alone (``./dev setup`` runs it before the project's virtualenv exists)::

    python -m pdutils.supply_chain.locks pyproject.toml requirements/dev.txt
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical_name(name: str) -> str:
    """The normalized project name (PEP 503): case and runs of ``-_.`` do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_versions(lock: Path) -> dict[str, str]:
    """Each package the lock pins, by canonical name, with its version."""
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            pins[canonical_name(match["name"])] = match["version"]
    return pins


def unlocked_dependencies(pyproject: Path, lock: Path, extras: Sequence[str] = ("dev",)) -> list[str]:
    """The dependencies of the project and of ``extras`` the lock does not pin (by name; versions are pytest's)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    declared = [
        *project["dependencies"],
        *(item for extra in extras for item in project["optional-dependencies"][extra]),
    ]
    pinned = pinned_versions(lock)
    names = (match[1] for match in map(_NAME.match, declared) if match)
    return sorted({name for name in names if canonical_name(name) not in pinned})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fail when a lock does not pin every dependency of pyproject.toml.")
    parser.add_argument("pyproject", type=Path)
    parser.add_argument("lock", type=Path)
    args = parser.parse_args(argv)
    missing = unlocked_dependencies(args.pyproject, args.lock)
    if missing:
        print(f"{args.lock} does not pin {', '.join(missing)} from {args.pyproject}: run ./dev lock", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
