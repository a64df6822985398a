"""The status file a running pdutils start leaves for the other commands: cheap to read, never stale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pdutils.local.stack_record import (
    LocalStackRecord,
    read_running_record,
    record_path,
    remove_record,
    write_record,
)


def a_record(pid: int | None = None) -> LocalStackRecord:
    record = LocalStackRecord(
        endpoint_url="http://127.0.0.1:5000",
        region="us-east-1",
        stack_name="pdutils-local",
        simulator_url="http://127.0.0.1:8081",
        api_url="http://127.0.0.1:3000",
        health_token_secret_id="pdutils-local/health-token-keys",
        simulator_control_token="a-control-token",
    )
    return record if pid is None else LocalStackRecord(**{**record.__dict__, "pid": pid})


def dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])  # a process of ours that has exited and been reaped
    finished.wait()
    return finished.pid


def test_the_record_of_a_live_process_is_read_back(tmp_path: Path) -> None:
    written = a_record()
    write_record(tmp_path, written)

    assert read_running_record(tmp_path) == written
    assert json.loads(record_path(tmp_path).read_text())["pid"] == written.pid
    assert [path.name for path in record_path(tmp_path).parent.iterdir()] == ["stack.json"]


def test_only_its_owner_can_read_the_record(tmp_path: Path) -> None:
    write_record(tmp_path, a_record())

    assert record_path(tmp_path).stat().st_mode & 0o777 == 0o600


def test_the_record_of_a_process_that_is_gone_is_ignored(tmp_path: Path) -> None:
    write_record(tmp_path, a_record(pid=dead_pid()))

    assert read_running_record(tmp_path) is None


def test_missing_broken_or_foreign_records_are_ignored(tmp_path: Path) -> None:
    assert read_running_record(tmp_path) is None
    record_path(tmp_path).parent.mkdir(parents=True)
    for content in ("{half", '{"endpoint_url": "x"}', json.dumps({**a_record().__dict__, "pid": 0})):
        record_path(tmp_path).write_text(content)
        assert read_running_record(tmp_path) is None


def test_a_stack_removes_only_its_own_record(tmp_path: Path) -> None:
    newer = a_record()
    write_record(tmp_path, newer)

    remove_record(tmp_path, pid=dead_pid())
    assert read_running_record(tmp_path) == newer

    remove_record(tmp_path, pid=newer.pid)
    assert not record_path(tmp_path).exists()
