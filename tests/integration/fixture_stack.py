"""The fixture stack (tests/fixtures/local_stack) in a copy per test.

``pdutils start`` and ``pdutils demo`` announce a running stack in a record beside its template, where
``pdutils invoke`` finds it. Tests running at the same time (other pytest-xdist workers) invoke the same
fixture template and expect no stack, so every test that starts one starts it on a copy of its own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURE_TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "local_stack" / "template.yaml"


def copy_of_fixture_stack(directory: Path) -> Path:
    """The fixture stack's template in a copy under ``directory``."""
    copy = shutil.copytree(
        FIXTURE_TEMPLATE.parent, directory / "local_stack", ignore=shutil.ignore_patterns(".*", "__pycache__")
    )
    return copy / FIXTURE_TEMPLATE.name
