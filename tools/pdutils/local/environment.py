"""A function's environment variables, assembled in the order that lets each source override the last.

1. local defaults (tracing off: there is no X-Ray daemon locally);
2. the template's ``Environment`` (Globals merged), intrinsics resolved against the stack;
3. local-stack extras (PagerDuty URLs pointing at the simulator);
4. the ``--env-vars`` file, SAM's format: ``{"Parameters": {...all functions...}, "<LogicalId>": {...}}``.
   Unlike ``sam local``, variables the template does not declare are added too (the sample events need a
   wider webhook replay window than a deployed receiver should have);
5. the AWS target (credentials, region, endpoint), so a function can never reach the wrong AWS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pdutils.errors import CommandError
from pdutils.json_file import read_json_file
from pdutils.local.intrinsics import IntrinsicResolver
from pdutils.local.target import AwsTarget
from pdutils.local.template import FunctionSpec

LOCAL_DEFAULTS = {"POWERTOOLS_TRACE_DISABLED": "true"}
ALL_FUNCTIONS_KEY = "Parameters"
# Read by the commands that run functions when no --env-vars file is named: its receiver section widens the
# replay window, so that the sample webhook event (signed once, with a fixed occurred_at) is accepted locally.
LOCAL_ENV_VARS_FILE = "env.local.json"


class EnvVarsError(CommandError):
    """The ``--env-vars`` file is JSON, but not in SAM's format."""


def env_vars_for(named: Path | None, template_dir: Path) -> dict[str, dict[str, str]] | None:
    """The ``--env-vars`` file when one is named (it must exist), else ``env.local.json`` beside the template
    when there is one, else None."""
    if named is not None:
        return load_env_vars_file(named)
    local_file = template_dir / LOCAL_ENV_VARS_FILE
    return load_env_vars_file(local_file) if local_file.is_file() else None


def load_env_vars_file(path: Path) -> dict[str, dict[str, str]]:
    document: Any = read_json_file(path, what="--env-vars file")
    if not isinstance(document, dict) or not all(isinstance(section, dict) for section in document.values()):
        raise EnvVarsError(f'{path}: expected {{"Parameters": {{...}}, "<LogicalId>": {{...}}}} with string values')
    return {
        name: {variable: _as_string(value) for variable, value in section.items()} for name, section in document.items()
    }


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def function_environment(
    function: FunctionSpec,
    resolver: IntrinsicResolver,
    target: AwsTarget,
    *,
    extras: Mapping[str, str] | None = None,
    env_vars: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, str]:
    declared = resolver.resolve(dict(function.environment)) or {}
    return {
        **LOCAL_DEFAULTS,
        **{name: _as_string(value) for name, value in declared.items()},
        **(extras or {}),
        **(env_vars or {}).get(ALL_FUNCTIONS_KEY, {}),
        **(env_vars or {}).get(function.logical_id, {}),
        **target.environment,
    }
