"""The layer's import structure (docs/architecture.md): foundations, then the library modules users import, then
one package per function's pipeline. An import may only point down or sideways, never up, and the pipelines
never import each other, so each function's package can change without touching the others.

The layer also leaves ``cryptography`` out (the ``encryption`` extra, for ``SecurityManager`` only): the three
functions and the HS256 health tokens work in an interpreter that cannot import it."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

import pagerduty_utils
from pagerduty_utils.encryption import MISSING_CRYPTOGRAPHY
from pdutils.testing.lambda_environments import HANDLER_ENVIRONMENTS, HandlerEnvironment

PACKAGE_ROOT = Path(pagerduty_utils.__file__).parent
REPOSITORY = Path(__file__).resolve().parents[2]

FOUNDATIONS = frozenset(
    {
        "exceptions",
        "observability",
        "settings",
        "secrets",
        "state_table",
        "init_phase",
        "jwt_tokens",
        "pagerduty_events",
    }
)
LIBRARY = frozenset(
    {
        "api_client",
        "encryption",
        "formatters",
        "validators",
        "cache_manager",
        "circuit_breaker",
        "rate_limiter",
        "metrics_collector",
        "config_parser",
        "data_transformer",
        "notification_builder",
        "audit_logger",
        "error_handler",
        "circuit_breaker_decorator",
        "prometheus",
    }
)
PIPELINES = frozenset({"alert_forwarder", "webhook_processor", "health_monitor"})
# A module that re-exports, on first use (PEP 562), a name defined in a module built on it: the README's names
# stay where the README puts them. Such an edge is loaded lazily, never at import, so it is no cycle.
LAZY_REEXPORTS = frozenset({("circuit_breaker", "circuit_breaker_decorator")})
LAYER_OF = dict.fromkeys(FOUNDATIONS, 0) | dict.fromkeys(LIBRARY, 1) | dict.fromkeys(PIPELINES, 2)


def top_level_modules() -> set[str]:
    return {
        path.name.removesuffix(".py")
        for path in PACKAGE_ROOT.iterdir()
        if (path.suffix == ".py" and path.name != "__init__.py") or (path / "__init__.py").exists()
    }


def imported_modules(source: Path) -> Iterator[str]:
    """The top-level ``pagerduty_utils`` modules that ``source`` imports, at any depth (TYPE_CHECKING too)."""
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "pagerduty_utils":
                yield from (alias.name for alias in node.names)
            elif node.module.startswith("pagerduty_utils."):
                yield node.module.split(".")[1]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pagerduty_utils."):
                    yield alias.name.split(".")[1]


def dependency_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in top_level_modules()}
    for source in PACKAGE_ROOT.rglob("*.py"):
        parts = source.relative_to(PACKAGE_ROOT).parts
        if parts == ("__init__.py",):
            continue
        owner = parts[0].removesuffix(".py")
        graph[owner].update(name for name in imported_modules(source) if name != owner)
    return graph


def test_every_top_level_module_has_a_layer() -> None:
    assert top_level_modules() == set(LAYER_OF), "place each new module in a layer here and in docs/architecture.md"


@pytest.mark.parametrize("owner", sorted(LAYER_OF))
def test_imports_never_point_up(owner: str) -> None:
    upward = {name for name in dependency_graph()[owner] if LAYER_OF.get(name, 0) > LAYER_OF[owner]}
    assert not upward, f"{owner} (layer {LAYER_OF[owner]}) imports higher layers: {sorted(upward)}"


@pytest.mark.parametrize("owner", sorted(PIPELINES))
def test_pipelines_do_not_import_each_other(owner: str) -> None:
    assert not dependency_graph()[owner] & (PIPELINES - {owner})


def test_top_level_modules_form_no_cycle() -> None:
    graph = dependency_graph()
    finished: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import cycle: {' -> '.join((*path, name))}"
        if name in finished:
            return
        for dependency in sorted(graph.get(name, ())):
            if (name, dependency) not in LAZY_REEXPORTS:
                visit(dependency, (*path, name))
        finished.add(name)

    for name in sorted(graph):
        visit(name, ())


def test_upward_import_is_detected(tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text("from pagerduty_utils.alert_forwarder.wiring import build\nimport pagerduty_utils.secrets\n")
    assert sorted(imported_modules(source)) == ["alert_forwarder", "secrets"]


@pytest.mark.parametrize(("old", "new"), sorted(pagerduty_utils.MOVED_MODULES.items()))
def test_moved_modules_import_under_their_old_names(old: str, new: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, f"pagerduty_utils.{old}", raising=False)
    with pytest.warns(DeprecationWarning, match=f"moved to pagerduty_utils.{new}"):
        moved = importlib.import_module(f"pagerduty_utils.{old}")
    assert moved is importlib.import_module(f"pagerduty_utils.{new}")


def test_submodules_of_a_moved_package_are_the_same_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pagerduty_utils.alert_sources", "pagerduty_utils.alert_sources.alarms"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.warns(DeprecationWarning, match="moved to pagerduty_utils.data_transformer.sources"):
        old = importlib.import_module("pagerduty_utils.alert_sources.alarms")
    assert old is importlib.import_module("pagerduty_utils.data_transformer.sources.alarms")


# Run first in each interpreter below: `cryptography` and its submodules fail to import, as where it is not
# installed (PyJWT, for one, checks for it with `except ModuleNotFoundError`).
REFUSE_CRYPTOGRAPHY = """
import sys

class RefuseCryptography:
    def find_spec(self, name, path=None, target=None):
        if name == "cryptography" or name.startswith("cryptography."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, RefuseCryptography())
"""
# HS256 tokens minted and verified at a fixed instant, then SecurityManager with a local key and with a KMS key.
TOKENS_AND_SECURITY_MANAGER = """
import jwt.algorithms
from pagerduty_utils import ConfigurationError, SecurityManager, TokenAuthority, TokenPolicy
from pdutils.testing.webhook_fakes import StaticSigningKeys

policy = TokenPolicy(issuer="pagerduty-utils", audience="pagerduty-utils/health")
authority = TokenAuthority(StaticSigningKeys("current-signing-key-0123456789abcdef"), policy, clock=lambda: 1795752000)
print(authority.verify(authority.issue("ops@example.com", lifetime_seconds=600)).subject)
print(f"PyJWT has cryptography: {jwt.algorithms.has_crypto}")
for key in ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "alias/pagerduty-utils"):
    try:
        SecurityManager(key).encrypt_sensitive_data("x")
    except ConfigurationError as error:
        print(error)
"""


@pytest.fixture
def cryptography_installed() -> None:
    """Refusing `cryptography` only proves something where it is installed (the dev extra installs it)."""
    assert importlib.util.find_spec("cryptography") is not None


def run_without_cryptography(program: str, variables: Mapping[str, str], *path: Path) -> list[str]:
    """The lines ``program`` prints in a fresh interpreter that cannot import ``cryptography``."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "POWERTOOLS_"))}
    search_path = os.pathsep.join([*map(str, path), str(REPOSITORY / "layers" / "utils"), *sys.path[1:]])
    completed = subprocess.run(
        [sys.executable, "-c", REFUSE_CRYPTOGRAPHY + program],
        env={**inherited, **variables, "PYTHONPATH": search_path},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.splitlines()


@pytest.mark.usefixtures("cryptography_installed")
@pytest.mark.parametrize("handler", HANDLER_ENVIRONMENTS, ids=lambda handler: handler.name)
def test_each_function_builds_during_init_without_cryptography(handler: HandlerEnvironment) -> None:
    program = f"import app\nprint(app.{handler.builder}.cache_info().currsize)"

    printed = run_without_cryptography(
        program, handler.variables(in_lambda=True), REPOSITORY / "functions" / handler.name
    )

    assert printed == ["1"], "built during Init, and nothing logged (a failed build logs its error)"


@pytest.mark.usefixtures("cryptography_installed")
def test_tokens_work_and_security_manager_says_what_to_install_without_cryptography() -> None:
    printed = run_without_cryptography(TOKENS_AND_SECURITY_MANAGER, {})

    assert printed == [
        "ops@example.com",
        "PyJWT has cryptography: False",
        MISSING_CRYPTOGRAPHY,
        MISSING_CRYPTOGRAPHY,
    ]
