"""The simulator's control token is safe to paste after ``--control-token`` on any command line."""

from __future__ import annotations

import re

import pytest

from pdutils.simulator.config import CONTROL_TOKEN_ENV, default_control_token


def test_a_fresh_token_is_hex_so_it_never_reads_as_an_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONTROL_TOKEN_ENV, raising=False)

    tokens = {default_control_token() for _ in range(200)}

    assert len(tokens) == 200
    assert all(re.fullmatch(r"[0-9a-f]{48}", token) for token in tokens)


def test_the_environment_names_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONTROL_TOKEN_ENV, "chosen-by-the-user")

    assert default_control_token() == "chosen-by-the-user"
