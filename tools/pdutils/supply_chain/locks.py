"""Read the pinned requirements of a lock file written by ``uv pip compile`` (``name==version`` per package)."""

from __future__ import annotations

import re
from pathlib import Path

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")


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
