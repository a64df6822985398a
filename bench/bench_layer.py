"""Size of the utils layer's zip as a deployment ships it (a script, not a test).

The layer is built as the deploy guide builds it: ``pip install --target`` of layers/utils/requirements.txt
(what ``sam build`` does), ``pagerduty_utils`` beside it, ``layers/prune_layer.py``, then ``compileall`` in
``unchecked-hash`` mode (the packages are built once and cached under .bench/, shared with the cold-start
benchmark, which measures this same layer). The figure is the zip (deflate, level 9) without the AWS
SDK, which the Lambda runtime provides: boto3 with botocore, s3transfer, jmespath, python-dateutil, six and
urllib3, the packages it depends on; target at most 10 MB. Beside it, in the same
run: the same zip before pruning (the peer), with the SDK, and without bytecode.

    .venv/bin/python bench/bench_layer.py [--json]
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from pdutils.testing.bench_report import Figure, emit
from pdutils.testing.layer_build import compile_bytecode, deployed_packages

REPOSITORY = Path(__file__).resolve().parents[1]
LAYER_SOURCE = REPOSITORY / "layers" / "utils"
CACHE = REPOSITORY / ".bench"
# The AWS SDK as the Lambda Python runtime ships it: boto3 and the packages it depends on.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "python_dateutil", "six", "urllib3")
SDK_WORDS = "the SDK (boto3, botocore, s3transfer, jmespath, dateutil, six, urllib3)"
MB = 2**20


def zipped_size(root: Path, include: Callable[[Path], bool]) -> int:
    """Bytes of a zip of ``root`` (as the layer's ``python/`` directory) holding the files ``include`` keeps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file() and include(path.relative_to(root)):
                archive.write(path, Path("python") / path.relative_to(root))
    return buffer.tell()


def without_sdk(path: Path) -> bool:
    return path.parts[0].split("-")[0].removesuffix(".py") not in RUNTIME_SDK


def sources_only(path: Path) -> bool:
    return without_sdk(path) and path.suffix != ".pyc"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for bench/run_all.py)")
    args = parser.parse_args()
    requirements = LAYER_SOURCE / "requirements.txt"
    with tempfile.TemporaryDirectory(prefix="layer-") as building:
        unpruned, layer = Path(building) / "unpruned", Path(building) / "layer"
        shutil.copytree(deployed_packages(requirements, CACHE, "layer-packages-unpruned", pruned=False), unpruned)
        shutil.copytree(deployed_packages(requirements, CACHE, "layer-packages"), layer)
        for packages in (unpruned, layer):
            project = packages / "pagerduty_utils"
            shutil.copytree(LAYER_SOURCE / "pagerduty_utils", project, ignore=shutil.ignore_patterns("__pycache__"))
            compile_bytecode(project)
        deployed = zipped_size(layer, without_sdk)
        figures = [
            Figure(
                f"layer zip without {SDK_WORDS}, pruned, with bytecode",
                deployed / MB,
                "MB",
                "the same before pruning",
                zipped_size(unpruned, without_sdk) / MB,
                "<= 10 MB",
                deployed <= 10 * MB,
            ),
            Figure("layer zip with the SDK, pruned, with bytecode", zipped_size(layer, bool) / MB, "MB"),
            Figure(
                "layer zip without the SDK, pruned, sources only",
                zipped_size(layer, sources_only) / MB,
                "MB",
            ),
        ]
    emit(figures, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
