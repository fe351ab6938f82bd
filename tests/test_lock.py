"""The locks in requirements/ and pyproject.toml must agree: every dependency pyproject.toml
declares (with the extras each lock covers) is pinned in that lock, at a version its range
admits, with hashes; and the smaller locks never pin a version the larger ones don't.

A failure here means pyproject.toml changed without `make lock` (docs/development.md)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
LOCKS = {"demo": (), "test": ("llm", "test"), "bench": ("llm", "test", "bench")}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock: str) -> dict[str, Version]:
    """name -> version of every package the lock pins; each pin must carry a hash."""
    text = (REPO / "requirements" / f"{lock}.lock").read_text()
    found: dict[str, Version] = {}
    for block in re.split(r"\n(?=\S)", text):
        match = PIN.match(block)
        if match:
            assert "--hash=sha256:" in block, f"{lock}.lock pins {match[1]} without a hash"
            found[canonicalize_name(match[1])] = Version(match[2])
    return found


def declared(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    build = [line for line in (REPO / "requirements/build.in").read_text().splitlines() if line and line[0] != "#"]
    lines = [*project["project"]["dependencies"], *build]
    for extra in extras:
        lines += project["project"]["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_declared_dependency_is_locked_within_its_range(lock: str) -> None:
    locked = pins(lock)
    environment = default_environment()
    for requirement in declared(LOCKS[lock]):
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is declared in pyproject.toml but not pinned in {lock}.lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{lock}.lock pins {name}=={locked[name]}, outside pyproject.toml's {requirement.specifier}"
        )


def test_the_model_features_are_not_in_the_base_lock() -> None:
    assert "litellm" not in pins("demo")
    assert "litellm" in pins("test")


def test_smaller_locks_pin_the_same_versions_as_larger_ones() -> None:
    """`make test` after `make demo` installs into the same venv: a package pinned in two locks
    must be the same version in both, or the order of the two commands would matter."""
    demo, test, bench = pins("demo"), pins("test"), pins("bench")
    assert {name: version for name, version in demo.items() if test.get(name) != version} == {}
    assert {name: version for name, version in test.items() if bench.get(name) != version} == {}
