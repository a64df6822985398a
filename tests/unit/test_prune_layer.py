"""layers/prune_layer.py removes only what no function loads."""

from __future__ import annotations

from pathlib import Path

from pdutils.testing.layer_build import prune

PRUNED = [
    "botocore/__pycache__/client.cpython-313.pyc",
    "pydantic_core/core_schema.pyi",
    "certifi/tests/test_certify.py",
    "yaml/_yaml.cpython-313-x86_64-linux-gnu.so",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js",
]
KEPT = [
    "botocore/client.py",
    "pydantic_core/_pydantic_core.cpython-313-x86_64-linux-gnu.so",
    "yaml/__init__.py",
    "yaml/cyaml.py",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/html.py",
    "pagerduty_utils/rate_limiter.py",
]


def test_prune_removes_caches_stubs_tests_and_unused_extras_only(tmp_path: Path) -> None:
    for relative in PRUNED + KEPT:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 10)

    freed = prune(tmp_path)

    assert freed == 10 * len(PRUNED)
    assert [relative for relative in PRUNED if (tmp_path / relative).exists()] == []
    assert [relative for relative in KEPT if not (tmp_path / relative).exists()] == []
