"""The hashed locks match pyproject.toml, the layer ships the tested versions, the licences list is current.

A dependency added to pyproject.toml without `./dev lock` fails here, before an install could drift from what was
reviewed. The audit's verdict never reports "clean" for packages nobody could look up.
"""

from __future__ import annotations

import io
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from pdutils.supply_chain.audit import CLEAN, NOT_AUDITED, VULNERABLE, main, verdict
from pdutils.supply_chain.licences import UNKNOWN, declared_licence
from pdutils.supply_chain.locks import canonical_name, pinned_versions, unlocked_dependencies
from pdutils.supply_chain.locks import main as locks_main

REPOSITORY = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPOSITORY / "requirements"
DEV_LOCK = REQUIREMENTS / "dev.txt"
TOOL_LOCKS = {tool: (REQUIREMENTS / f"{tool}.in", REQUIREMENTS / f"{tool}.txt") for tool in ("sam", "checkov")}
LAYER_LOCK = REPOSITORY / "layers" / "utils" / "requirements.txt"
FLOORS = REQUIREMENTS / "floors.txt"
LICENCES = REPOSITORY / "docs" / "licences.md"
PROJECT = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(text) for text in PROJECT["dependencies"]]
DEVELOPMENT = [Requirement(text) for text in PROJECT["optional-dependencies"]["dev"]]
ALL_LOCKS = [DEV_LOCK, LAYER_LOCK, *(lock for _, lock in TOOL_LOCKS.values())]


def requirements_in(path: Path) -> list[Requirement]:
    """The requirements of a requirements file or a constraints file, comments left out."""
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def requirement_lines(lock: Path) -> list[str]:
    """The lock's requirements, each with its continuation lines joined."""
    text = lock.read_text().replace("\\\n", " ")
    return [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        (DEV_LOCK, RUNTIME + DEVELOPMENT),
        (LAYER_LOCK, RUNTIME),
        *((lock, requirements_in(source)) for source, lock in TOOL_LOCKS.values()),
    ],
    ids=["dev", "layer", *TOOL_LOCKS],
)
def test_every_direct_dependency_is_locked_within_its_range(lock: Path, requirements: list[Requirement]) -> None:
    pins = pinned_versions(lock)
    for requirement in requirements:
        name = canonical_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in {lock.name}: run ./dev lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]}: run ./dev lock"


def test_indirect_dependencies_are_locked_above_their_security_floors() -> None:
    floors = requirements_in(FLOORS)
    assert floors
    for lock in ALL_LOCKS:
        pins = pinned_versions(lock)
        for floor in floors:
            name = canonical_name(floor.name)
            assert name not in pins or floor.specifier.contains(pins[name], prereleases=True), (lock.name, name)


@pytest.mark.parametrize("lock", ALL_LOCKS, ids=lambda lock: lock.name)
def test_every_locked_package_carries_hashes(lock: Path) -> None:
    lines = requirement_lines(lock)
    assert len(lines) >= len(pinned_versions(lock)) > 10  # a package may be pinned once per Python version range
    for line in lines:
        assert "--hash=sha256:" in line, line.split()[0]


def test_the_layer_ships_the_versions_the_tests_ran_with() -> None:
    layer = pinned_versions(LAYER_LOCK)
    development = pinned_versions(DEV_LOCK)
    assert {name: development.get(name) for name in layer} == layer


def test_the_licence_list_names_every_package_the_layer_ships() -> None:
    rows = [line.split("|")[1:4] for line in LICENCES.read_text().splitlines() if line.startswith("| ")][2:]
    listed = {canonical_name(name.strip()): version.strip() for name, version, _ in rows}
    assert listed == pinned_versions(LAYER_LOCK), "docs/licences.md is stale: run ./dev lock"
    assert all(licence.strip() for _, _, licence in rows)


def report(*dependencies: dict[str, Any]) -> dict[str, Any]:
    return {"dependencies": list(dependencies), "fixes": []}


def test_audit_fails_when_nothing_could_be_audited() -> None:
    unreachable = {"skip_reason": "Dependency not found on PyPI and could not be audited"}
    result = verdict(
        report(
            {"name": "pyjwt", "version": "2.10.1", **unreachable}, {"name": "h11", "version": "0.16.0", **unreachable}
        )
    )
    assert result.exit_code == NOT_AUDITED
    assert result.lines == [
        "2 of 2 packages could NOT be audited, so nothing is known about them (is the vulnerability service "
        "reachable from this network?), e.g. Dependency not found on PyPI and could not be audited"
    ]


def test_audit_reports_vulnerabilities_before_skips() -> None:
    vulnerable = {
        "name": "pyjwt",
        "version": "2.10.0",
        "vulns": [{"id": "GHSA-75c5-xw7c-p5pm", "fix_versions": ["2.10.1"]}],
    }
    result = verdict(report(vulnerable, {"name": "h11", "version": "0.16.0", "skip_reason": "timeout"}))
    assert result.exit_code == VULNERABLE
    assert result.lines[0] == "pyjwt 2.10.0: GHSA-75c5-xw7c-p5pm (fixed in 2.10.1)"
    assert result.lines[-1] == "1 vulnerable package(s): raise their floors, then ./dev lock"


def test_audit_is_clean_only_when_every_package_was_audited() -> None:
    result = verdict(report({"name": "pyjwt", "version": "2.10.1", "vulns": []}))
    assert (result.exit_code, result.lines) == (CLEAN, ["1 packages audited: no known vulnerabilities"])
    assert verdict(report()).exit_code == NOT_AUDITED


def test_audit_says_so_when_pip_audit_cannot_run(tmp_path: Path) -> None:
    stream = io.StringIO()
    failing = tmp_path / "pip-audit"
    failing.write_text("#!/bin/sh\necho 'ConnectionError: pypi.org unreachable' >&2\nexit 1\n")
    failing.chmod(0o755)
    assert main([str(failing), str(LAYER_LOCK)], stream=stream) == NOT_AUDITED
    assert stream.getvalue() == (
        "dev audit: pip-audit could not run, nothing was audited: ConnectionError: pypi.org unreachable\n"
    )


def test_audit_says_so_when_pip_audit_is_missing(tmp_path: Path) -> None:
    stream = io.StringIO()
    assert main([str(tmp_path / "pip-audit"), str(LAYER_LOCK)], stream=stream) == NOT_AUDITED
    assert stream.getvalue().startswith("dev audit: pip-audit could not run, nothing was audited: ")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("License-Expression: Apache-2.0 OR BSD-3-Clause\nLicense: ignored\n", "Apache-2.0 OR BSD-3-Clause"),
        (
            "License: Dual License\nClassifier: License :: OSI Approved :: BSD License\n"
            "Classifier: License :: OSI Approved :: Apache Software License\n",
            "BSD License / Apache Software License",
        ),
        ("License: MIT\nClassifier: Programming Language :: Python\n", "MIT"),
        (f"License: {'full licence text ' * 10}\n", UNKNOWN),
        ("Summary: no licence at all\n", UNKNOWN),
    ],
    ids=["spdx-expression", "classifiers", "short-field", "full-text", "nothing"],
)
def test_licences_are_read_from_the_metadata_a_package_declares(tmp_path: Path, fields: str, expected: str) -> None:
    dist_info = tmp_path / "example-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.4\nName: example\nVersion: 1.0\n{fields}")
    assert declared_licence(metadata.PathDistribution(dist_info).metadata) == expected


def test_a_dependency_added_without_relocking_is_named_before_anything_is_installed(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        (REPOSITORY / "pyproject.toml").read_text().replace("dev = [\n", 'dev = [\n  "Redis_Lite>=6.2",\n  "pyjwt",\n')
    )
    assert unlocked_dependencies(REPOSITORY / "pyproject.toml", DEV_LOCK) == []
    assert unlocked_dependencies(pyproject, DEV_LOCK) == ["Redis_Lite"]
    assert locks_main([str(pyproject), str(DEV_LOCK)]) == 1
