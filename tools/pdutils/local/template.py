"""Read a SAM template: its parameters, conditions, resources, and each function as the runtime needs it.

Only what the local runtime uses is modelled; everything else stays a plain dict. Function properties are
merged with ``Globals.Function`` the way SAM merges them (maps merged key by key, lists concatenated, the
function's own scalars winning).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from samtranslator.yaml_helper import intrinsics_multi_constructor

from pdutils.errors import CommandError
from pdutils.local.intrinsics import IntrinsicResolver

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
SERVERLESS_LAYER = "AWS::Serverless::LayerVersion"
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128


class TemplateError(CommandError):
    """The template cannot be used locally (missing function, unsupported CodeUri, bad YAML...)."""


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that turns short-form intrinsics (``!Ref X``, ``!GetAtt A.B``...) into their long form."""


_CloudFormationLoader.add_multi_constructor("!", intrinsics_multi_constructor)


def load_template_document(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML or JSON file into plain data with long-form intrinsics."""
    try:
        loader = _CloudFormationLoader(path.read_text())
        try:
            document = loader.get_single_data()
        finally:
            loader.dispose()
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return document


@dataclass(frozen=True)
class EventSource:
    """One entry of a function's ``Events``: its name, SAM type (Api, SQS, Schedule...) and raw properties."""

    name: str
    type: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class FunctionSpec:
    """A function as the local runtime runs it; ``environment`` values are still unresolved intrinsics."""

    logical_id: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    environment: Mapping[str, Any]
    timeout_seconds: int
    memory_mb: int
    events: tuple[EventSource, ...] = field(default=())

    def events_of_type(self, *types: str) -> list[EventSource]:
        return [event for event in self.events if event.type in types]


@dataclass(frozen=True)
class SamTemplate:
    path: Path
    document: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path) -> SamTemplate:
        return cls(path=path.resolve(), document=load_template_document(path))

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        resources: Mapping[str, Mapping[str, Any]] = self.document["Resources"]
        return resources

    @property
    def parameters(self) -> Mapping[str, Mapping[str, Any]]:
        parameters: Mapping[str, Mapping[str, Any]] = self.document.get("Parameters") or {}
        return parameters

    @property
    def conditions(self) -> Mapping[str, Any]:
        conditions: Mapping[str, Any] = self.document.get("Conditions") or {}
        return conditions

    def parameter_values(
        self, overrides: Mapping[str, str] | None = None, *, local_fallbacks: bool = False
    ) -> dict[str, str]:
        """Each parameter's value: ``overrides``, else its default (a list default becomes CloudFormation's CSV).

        With ``local_fallbacks``, a parameter that has neither gets a local value (its first allowed value,
        its minimum, or ``local-<Name>``) so that a local stack needs no answers; otherwise it is left out.
        """
        unknown = set(overrides or {}) - set(self.parameters)
        if unknown:
            raise TemplateError(
                f"--parameter-overrides names parameters {self.path.name} does not declare: "
                f"{', '.join(sorted(unknown))} (it declares {', '.join(sorted(self.parameters)) or 'none'})"
            )
        values: dict[str, str] = {}
        for name, declaration in self.parameters.items():
            value = (overrides or {}).get(name, declaration.get("Default"))
            if value is None and local_fallbacks:
                value = _local_parameter_value(name, declaration)
            if value is not None:
                values[name] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        return values

    def function_ids(self) -> list[str]:
        return [
            logical_id for logical_id, resource in self.resources.items() if resource["Type"] == SERVERLESS_FUNCTION
        ]

    def functions(self, parameters: Mapping[str, str] | None = None) -> list[FunctionSpec]:
        return [self.function(logical_id, parameters) for logical_id in self.function_ids()]

    def function(self, logical_id: str, parameters: Mapping[str, str] | None = None) -> FunctionSpec:
        """The function ``logical_id``; parameter references in its properties (MemorySize: !Ref ...) are
        resolved with ``parameters`` (default: each parameter's default, or its local fallback)."""
        resource = self.resources.get(logical_id)
        if resource is None or resource["Type"] != SERVERLESS_FUNCTION:
            known = ", ".join(self.function_ids()) or "none"
            raise TemplateError(f"{logical_id} is not an {SERVERLESS_FUNCTION} in {self.path} (functions: {known})")
        resolver = IntrinsicResolver(
            parameters=self.parameter_values(local_fallbacks=True) if parameters is None else parameters,
            resources={},
            conditions=self.conditions,
        )
        merged = _merge_globals(self._function_globals(), resource.get("Properties") or {})
        # Environment variables and events are resolved later, against the stack they run with.
        properties = {
            key: value if key in ("Environment", "Events", "Layers") else resolver.resolve(value)
            for key, value in merged.items()
        }
        handler = properties.get("Handler")
        if not isinstance(handler, str) or "." not in handler:
            raise TemplateError(f"{logical_id}: Handler must be 'module.function', got {handler!r}")
        return FunctionSpec(
            logical_id=logical_id,
            handler=handler,
            code_dir=self._local_dir(logical_id, "CodeUri", properties.get("CodeUri")),
            layer_dirs=tuple(self._layer_dir(logical_id, layer) for layer in properties.get("Layers") or []),
            environment=dict((properties.get("Environment") or {}).get("Variables") or {}),
            timeout_seconds=int(properties.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
            memory_mb=int(properties.get("MemorySize", DEFAULT_MEMORY_MB)),
            events=tuple(
                EventSource(name=name, type=event["Type"], properties=event.get("Properties") or {})
                for name, event in (properties.get("Events") or {}).items()
            ),
        )

    def _function_globals(self) -> Mapping[str, Any]:
        function_globals: Mapping[str, Any] = (self.document.get("Globals") or {}).get("Function") or {}
        return function_globals

    def _local_dir(self, owner: str, property_name: str, uri: Any) -> Path:
        if not isinstance(uri, str) or uri.startswith("s3://"):
            raise TemplateError(f"{owner}: {property_name} must be a local directory to run locally, got {uri!r}")
        directory = (self.directory / uri).resolve()
        if not directory.is_dir():
            raise TemplateError(f"{owner}: {property_name} {directory} does not exist")
        return directory

    def _layer_dir(self, owner: str, layer: Any) -> Path:
        """The directory to put on sys.path for a ``!Ref`` to a layer of this template."""
        layer_id = layer.get("Ref") if isinstance(layer, dict) else None
        resource = self.resources.get(layer_id) if isinstance(layer_id, str) else None
        if resource is None or resource["Type"] != SERVERLESS_LAYER:
            raise TemplateError(f"{owner}: only layers of this template (!Ref) can run locally, got {layer!r}")
        content_dir = self._local_dir(str(layer_id), "ContentUri", (resource.get("Properties") or {}).get("ContentUri"))
        # A prebuilt layer keeps its packages under python/ (what Lambda mounts at /opt/python); a layer built
        # by SAM from requirements.txt (BuildMethod pythonX.Y) has them at its root.
        prebuilt = content_dir / "python"
        return prebuilt if prebuilt.is_dir() else content_dir


def _local_parameter_value(name: str, declaration: Mapping[str, Any]) -> Any:
    allowed = declaration.get("AllowedValues")
    if allowed:
        return allowed[0]
    if declaration.get("Type") == "Number":
        return declaration.get("MinValue", 1)
    return f"local-{name}"


def _merge_globals(globals_: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(globals_)
    for key, value in own.items():
        inherited = merged.get(key)
        if isinstance(inherited, dict) and isinstance(value, dict):
            merged[key] = _merge_globals(inherited, value)
        elif isinstance(inherited, list) and isinstance(value, list):
            merged[key] = inherited + value
        else:
            merged[key] = value
    return merged
