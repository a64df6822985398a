"""Read a JSON file named on the command line, with errors that name the file and where it went wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pdutils.errors import CommandError


def parse_json(text: str, *, source: str) -> Any:
    """``text`` parsed; ``source`` (e.g. "event file events/x.json") names it in the error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; fix the file"
        ) from exc


def read_json_file(path: Path, *, what: str) -> Any:
    """The JSON document in ``path``; ``what`` says which option it came from (e.g. "event file")."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {what} {path}: {exc}") from exc
    return parse_json(text, source=f"{what} {path}")
