"""Which --env-vars file the local commands read: the one named (which must exist), else env.local.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pdutils.errors import CommandError
from pdutils.local.environment import LOCAL_ENV_VARS_FILE, EnvVarsError, env_vars_for

RECEIVER_WINDOW = {"WebhookReceiverFunction": {"WEBHOOK_REPLAY_WINDOW_SECONDS": "315360000"}}


def test_env_local_json_beside_the_template_is_read_when_no_file_is_named(tmp_path: Path) -> None:
    (tmp_path / LOCAL_ENV_VARS_FILE).write_text(json.dumps(RECEIVER_WINDOW))

    assert env_vars_for(None, tmp_path) == RECEIVER_WINDOW


def test_without_env_local_json_there_are_no_overrides(tmp_path: Path) -> None:
    assert env_vars_for(None, tmp_path) is None


def test_a_named_file_replaces_env_local_json(tmp_path: Path) -> None:
    (tmp_path / LOCAL_ENV_VARS_FILE).write_text(json.dumps(RECEIVER_WINDOW))
    named = tmp_path / "ci.json"
    named.write_text(json.dumps({"Parameters": {"POWERTOOLS_LOG_LEVEL": "DEBUG", "VERBOSE": True}}))

    assert env_vars_for(named, tmp_path) == {"Parameters": {"POWERTOOLS_LOG_LEVEL": "DEBUG", "VERBOSE": "true"}}


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    (tmp_path / LOCAL_ENV_VARS_FILE).write_text(json.dumps(RECEIVER_WINDOW))

    with pytest.raises(CommandError, match=r"--env-vars file .*missing\.json does not exist"):
        env_vars_for(tmp_path / "missing.json", tmp_path)


def test_a_file_in_another_shape_is_explained(tmp_path: Path) -> None:
    named = tmp_path / "flat.json"
    named.write_text(json.dumps({"POWERTOOLS_LOG_LEVEL": "DEBUG"}))

    with pytest.raises(EnvVarsError, match="expected"):
        env_vars_for(named, tmp_path)
