"""``${NAME}`` and ``${NAME:-default}`` in a parsed configuration document's string values.

Replacement happens after parsing, so a variable's value can never change the document's structure; ``$$`` is a
literal ``$``. An unset variable without a default, or a malformed reference, is a ``ConfigurationError``
naming the document and the exact place (``rules[2].match.region[0]``, ``security.jwt_secret``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pagerduty_utils.exceptions import ConfigurationError

_VARIABLE = re.compile(r"\$\$|\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.DOTALL)


def interpolate(value: Any, environ: Mapping[str, str], *, document: str, path: str = "") -> Any:
    """``value`` with every reference in its strings replaced; ``document`` names it in errors."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda match: _substitute(match, environ, document, path), value)
    if isinstance(value, dict):
        return {
            key: interpolate(item, environ, document=document, path=join_path(path, str(key)))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            interpolate(item, environ, document=document, path=f"{path}[{index}]") for index, item in enumerate(value)
        ]
    return value


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _substitute(match: re.Match[str], environ: Mapping[str, str], document: str, path: str) -> str:
    if match.group(0) == "$$":
        return "$"
    body = _VARIABLE_BODY.match(match.group(1))
    if body is None:
        raise ConfigurationError(f"{document}: {path or '(root)'}: malformed reference {match.group(0)!r}")
    name, default = body.group(1), body.group(2)
    if name in environ:
        return environ[name]
    if default is not None:
        return default
    raise ConfigurationError(f"{document}: {path or '(root)'}: environment variable {name} is not set")
