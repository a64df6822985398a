"""Where a running ``pdutils start`` can be found, so that ``pdutils invoke``/``start-api`` use its resources.

``pdutils start`` writes ``.aws-sam/pdutils-local/stack.json`` next to the template while it runs and removes
it when it stops; a record whose embedded AWS no longer answers is ignored.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

RECORD_PATH = Path(".aws-sam") / "pdutils-local" / "stack.json"


@dataclass(frozen=True)
class LocalStackRecord:
    endpoint_url: str
    region: str
    stack_name: str
    simulator_url: str | None
    api_url: str | None


def record_path(template_dir: Path) -> Path:
    return template_dir / RECORD_PATH


def write_record(template_dir: Path, record: LocalStackRecord) -> Path:
    path = record_path(template_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(record), indent=2) + "\n")
    return path


def remove_record(template_dir: Path) -> None:
    record_path(template_dir).unlink(missing_ok=True)


def read_running_record(template_dir: Path) -> LocalStackRecord | None:
    try:
        record = LocalStackRecord(**json.loads(record_path(template_dir).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    try:
        httpx.get(f"{record.endpoint_url}/moto-api/data.json", timeout=2).raise_for_status()
    except httpx.HTTPError:
        return None
    return record
