"""Removes from a built layer what no function of this application loads (a build step, run after ``sam build``).

    python3.13 layers/prune_layer.py .aws-sam/build/UtilsLayer/python

What goes, and why it is safe:
- ``__pycache__`` directories pip wrote while installing: timestamp-checked bytecode of the build machine's
  interpreter; the deploy guide's ``compileall`` step writes the bytecode Lambda uses;
- type stubs (``*.pyi``) and test suites shipped inside packages: nothing imports them at run time;
- PyYAML's C extension (``yaml/_yaml*.so``, about a third of the layer's YAML weight): the routing rules are
  read with ``yaml.SafeLoader``, the pure-Python loader, never with the C ``CSafeLoader``;
- the Swagger UI assets of Powertools' Event Handler: the receiver serves no OpenAPI UI.

This file lives outside ``layers/utils`` so that it is not shipped in the layer itself.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

PRUNED_DIRECTORIES = ("__pycache__", "tests")
PRUNED_GLOBS = (
    "**/*.pyi",
    "yaml/_yaml*.so",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.js",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.css",
)


def prunable(root: Path) -> Iterator[Path]:
    for name in PRUNED_DIRECTORIES:
        yield from (path for path in root.rglob(name) if path.is_dir())
    for pattern in PRUNED_GLOBS:
        yield from (path for path in root.glob(pattern) if path.is_file())


def prune(root: Path) -> int:
    """Removes what ``prunable`` finds under ``root``; returns the bytes freed."""
    freed = 0
    for path in sorted(set(prunable(root)), key=lambda item: len(item.parts), reverse=True):
        if not path.exists():  # inside a directory already removed
            continue
        if path.is_dir():
            freed += sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
            shutil.rmtree(path)
        else:
            freed += path.stat().st_size
            path.unlink()
    return freed


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: prune_layer.py LAYER_PYTHON_DIRECTORY", file=sys.stderr)
        return 2
    freed = prune(Path(argv[0]))
    print(f"pruned {freed / 2**20:.1f} MB from {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
