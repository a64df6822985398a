"""The layer's third-party packages as a deployment ships them, built once and cached, for the benchmarks.

The same steps as the deploy guide: ``pip install --target`` of a requirements file with this interpreter (as
``sam build`` does), ``layers/prune_layer.py`` (what no function loads), then ``compileall`` in
``unchecked-hash`` mode (Lambda's file system is read-only: without bytecode every cold start compiles).
"""

from __future__ import annotations

import compileall
import hashlib
import importlib.util
import platform
import py_compile
import subprocess  # nosec B404  # pip, for the benchmarks only
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]
PRUNE_SCRIPT = REPOSITORY / "layers" / "prune_layer.py"


def deployed_packages(requirements: Path, cache: Path, name: str, *, pruned: bool = True) -> Path:
    """``cache/<name>-<fingerprint>``: the packages of ``requirements``, pruned (unless ``pruned`` is False)
    and compiled; built once per requirements file, prune script and interpreter."""
    fingerprint = hashlib.sha256(
        requirements.read_bytes() + PRUNE_SCRIPT.read_bytes() + sys.version.encode() + platform.machine().encode()
    )
    target = cache / f"{name}-{fingerprint.hexdigest()[:16]}"
    if target.is_dir():
        return target
    cache.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="building-") as building:
        print(f"Building {target} (once) ...", file=sys.stderr)
        install(requirements, Path(building))
        if pruned:
            prune(Path(building))
        compile_bytecode(Path(building))
        Path(building).rename(target)
    return target


def install(requirements: Path, target: Path) -> None:
    subprocess.run(  # noqa: S603  # nosec B603  # this interpreter's pip, a requirements file of the repository
        [
            sys.executable,
            *("-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "--no-warn-conflicts"),
            *("--target", str(target), "--requirement", str(requirements)),
        ],
        check=True,
    )


def prune(directory: Path) -> int:
    """Runs ``layers/prune_layer.py``'s ``prune`` on ``directory``; returns the bytes freed."""
    spec = importlib.util.spec_from_file_location("prune_layer", PRUNE_SCRIPT)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {PRUNE_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    freed: int = module.prune(directory)
    return freed


def compile_bytecode(directory: Path) -> None:
    if not compileall.compile_dir(directory, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH):
        raise RuntimeError(f"compileall failed in {directory}")
