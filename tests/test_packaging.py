"""Packaging as a library declares it: pyproject.toml gives lower bounds only (no exact
pins, triton only where it has wheels), constraints.txt pins the environment the Makefile
builds, and the version is written once, in pyproject.toml."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+ (the development environment)
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements() -> list[tuple[str, Requirement]]:
    """(where, requirement) for every dependency pyproject.toml declares."""
    out = [("build-system.requires", Requirement(r)) for r in PYPROJECT["build-system"]["requires"]]
    out += [("dependencies", Requirement(r)) for r in PYPROJECT["project"]["dependencies"]]
    for extra, reqs in PYPROJECT["project"]["optional-dependencies"].items():
        out += [(f"optional-dependencies.{extra}", Requirement(r)) for r in reqs]
    return out


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version.strip(), f"constraints.txt: {line!r} is not NAME==VERSION"
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_no_dependency_is_pinned_exactly():
    text = (ROOT / "pyproject.toml").read_text()
    for where, req in _requirements():
        ops = {spec.operator for spec in req.specifier}
        assert not ops & {"==", "===", "~="}, f"{where}: {req} pins a version; give a lower bound"
        assert ">=" in ops, f"{where}: {req} has no lower bound"
    # also what a TOML parser would not reach (a commented-out pin is harmless, a string is not)
    assert not re.search(r'"[A-Za-z0-9_.\-\[\]]+\s*===?', text)


def test_triton_only_where_it_has_wheels():
    for where, req in _requirements():
        if canonicalize_name(req.name) == "triton":
            assert req.marker is not None, f"{where}: triton needs an environment marker"
            assert req.marker.evaluate({"platform_system": "Linux"})
            assert not req.marker.evaluate({"platform_system": "Darwin"})
            assert not req.marker.evaluate({"platform_system": "Windows"})


def test_constraints_pin_every_declared_dependency_within_its_bounds():
    pins = _constraints()
    declared = [(w, r) for w, r in _requirements() if w != "build-system.requires"]
    for where, req in declared:
        name = canonicalize_name(req.name)
        assert name in pins, f"constraints.txt does not pin {req.name} ({where})"
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"constraints.txt pins {req.name}=={pins[name]}, outside {where}: {req}"


def test_makefile_installs_with_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install[^\n]*-c constraints\.txt", makefile)


def test_installed_environment_matches_the_constraints():
    """The environment the tests run in is the pinned one (when it was built by the
    Makefile: a stamp file says so)."""
    from importlib import metadata

    venv = ROOT / ".venv"
    if not (venv / ".test-deps").exists() or Path(sys.prefix).resolve() != venv.resolve():
        pytest.skip("not the Makefile's .venv")
    for name, version in _constraints().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # a platform-specific pin (triton) absent here
        assert installed.split("+")[0] == version, f"{name} {installed}, constraints.txt {version}"


def test_readme_states_the_lower_bounds():
    readme = (ROOT / "README.md").read_text()
    for where, req in _requirements():
        if where == "dependencies" or canonicalize_name(req.name) == "torch":
            bound = next(s.version for s in req.specifier if s.operator == ">=")
            assert re.search(rf"\b{re.escape(req.name)}\W+(≥|>=)\s*{re.escape(bound)}\b", readme,
                             re.I), f"README does not state {req.name} >= {bound}"


def test_version_is_written_once(monkeypatch):
    import gemsym

    version = PYPROJECT["project"]["version"]
    assert gemsym.__version__ == version
    source = (ROOT / "gemsym" / "__init__.py").read_text()
    assert version not in source
    # a source tree that is not installed reads pyproject.toml
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert gemsym._version() == version


def test_license_file_matches_the_metadata():
    assert PYPROJECT["project"]["license"] == "MIT"
    assert "LICENSE" in PYPROJECT["project"]["license-files"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 the gemsym authors" in text
