"""Where a running ``pdutils start`` can be found, so that other commands use its resources and simulator.

``pdutils start`` writes ``.aws-sam/pdutils-local/stack.json`` next to the template while it runs (its
endpoints, its process id, the receiver's health token secret, the simulator's control token) and removes it
when it stops. The file is readable by its owner only: the control token steers the simulator. Reading it costs
one small file and one signal-0 check of the process id, so it stays cheap and reliable on a loaded machine;
a record whose process is gone (a stack killed without cleaning up) is ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

RECORD_PATH = Path(".aws-sam") / "pdutils-local" / "stack.json"


@dataclass(frozen=True)
class LocalStackRecord:
    endpoint_url: str
    region: str
    stack_name: str
    simulator_url: str | None
    api_url: str | None
    health_token_secret_id: str | None = None
    simulator_control_token: str | None = field(default=None, repr=False)
    pid: int = field(default_factory=os.getpid)  # the process serving the stack


def record_path(template_dir: Path) -> Path:
    return template_dir / RECORD_PATH


def write_record(template_dir: Path, record: LocalStackRecord) -> Path:
    """Write the record atomically: a reader never sees half a file."""
    path = record_path(template_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{record.pid}")
    partial.touch(mode=0o600)
    partial.chmod(0o600)  # touch() leaves the mode of a file left over by a crashed run
    partial.write_text(json.dumps(asdict(record), indent=2) + "\n")
    partial.replace(path)
    return path


def remove_record(template_dir: Path, pid: int) -> None:
    """Remove the record if process ``pid`` wrote it (a second stack started since owns the file now)."""
    path = record_path(template_dir)
    record = _read(path)
    if record is not None and record.pid == pid:
        path.unlink(missing_ok=True)


def read_running_record(template_dir: Path) -> LocalStackRecord | None:
    """The record of the stack running for the template in ``template_dir``, or None."""
    record = _read(record_path(template_dir))
    return record if record is not None and _process_alive(record.pid) else None


def _read(path: Path) -> LocalStackRecord | None:
    try:
        return LocalStackRecord(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _process_alive(pid: int) -> bool:
    if pid <= 0:  # kill() would address a process group, not a process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True
