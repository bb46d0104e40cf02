"""The locks (requirements/README.md): complete, consistent with pyproject.toml, and what is installed.

`make test-latest` sets CUSHION_UNLOCKED=1: it runs the suite on the newest
releases on purpose, so only the check that the installed versions are the
lock's is skipped there.
"""

import os
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.paths import ROOT

RUN_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
# The machines the project runs on (requirements/README.md), as pip sees them.
MACHINES = {
    machine: {
        "platform_machine": machine,
        "sys_platform": "linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    for machine in ("x86_64", "aarch64", "armv7l")
}
PYTHONS = ("3.11", "3.12", "3.13")


def locked(path: Path) -> list[tuple[Requirement, int]]:
    """Each pinned requirement of a lock file with its number of hashes."""
    entries: list[tuple[Requirement, int]] = []
    for line in path.read_text().splitlines():
        if not line or line[0] in " #":
            if line.strip().startswith("--hash=sha256:"):
                entries[-1] = (entries[-1][0], entries[-1][1] + 1)
            continue
        entries.append((Requirement(line.rstrip(" \\")), 0))
    return entries


def pins_for(path: Path, machine: str, python: str) -> dict[str, str]:
    """name -> version that the lock installs on this machine and Python."""
    environment = dict(MACHINES[machine], python_version=python, python_full_version=python + ".0")
    pins = {}
    for requirement, _ in locked(path):
        if requirement.marker is None or requirement.marker.evaluate(environment):
            name = canonicalize_name(requirement.name)
            assert name not in pins, f"{path.name}: {name} pinned twice for {machine}, Python {python}"
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"{path.name}: {requirement} is not an exact pin"
            pins[name] = spec.version
    return pins


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize("path", [RUN_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_every_locked_package_has_exact_versions_and_hashes(path):
    entries = locked(path)
    assert entries
    for requirement, hashes in entries:
        assert hashes >= 1, f"{path.name}: {requirement.name} has no hash"


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("python", PYTHONS)
def test_every_requirement_of_pyproject_is_locked_and_allowed(machine, python):
    """A dependency added to pyproject.toml without `make lock` fails here."""
    environment = dict(MACHINES[machine], python_version=python, python_full_version=python + ".0")
    wanted = {
        RUN_LOCK: list(project()["dependencies"]) + project()["optional-dependencies"]["pi"],
        DEV_LOCK: list(project()["dependencies"])
        + project()["optional-dependencies"]["test"]
        + project()["optional-dependencies"]["dev"],
    }
    wanted[RUN_LOCK] += ["pip>=23", "setuptools>=64"]
    for path, requirements in wanted.items():
        pins = pins_for(path, machine, python)
        for text in requirements:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            if name == "numpy" and machine == "armv7l":
                assert name not in pins  # Debian's python3-numpy there (requirements/overrides.txt)
                continue
            assert name in pins, f"{path.name} has no {name} for {machine}, Python {python}: run make lock"
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"{path.name}: {name}=={pins[name]} does not satisfy pyproject's {requirement}: run make lock"
            )


@pytest.mark.parametrize("machine", MACHINES)
def test_a_package_in_both_locks_has_one_version(machine):
    run, dev = pins_for(RUN_LOCK, machine, "3.11"), pins_for(DEV_LOCK, machine, "3.11")
    differ = {name: (version, dev[name]) for name, version in run.items() if name in dev and dev[name] != version}
    assert not differ


def test_the_armv7l_override_keeps_pyprojects_numpy_requirement():
    (numpy,) = [Requirement(r) for r in project()["dependencies"] if Requirement(r).name == "numpy"]
    lines = [
        line
        for line in (ROOT / "requirements" / "overrides.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    (override,) = [Requirement(line) for line in lines]
    assert override.specifier == numpy.specifier
    assert override.marker == Marker('platform_machine != "armv7l"')


@pytest.mark.skipif(bool(os.environ.get("CUSHION_UNLOCKED")), reason="make test-latest runs the newest releases")
def test_the_installed_versions_are_the_locks():
    """What `make test` runs on is exactly requirements-dev.lock, pip and setuptools included."""
    import platform
    import sys

    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    machine = platform.machine()
    if machine not in MACHINES:
        pytest.skip(f"the lock is not resolved for {machine}")
    pins = pins_for(DEV_LOCK, machine, python)
    installed = {canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}
    installed.pop("smart-cushion", None)
    wrong = {name: (installed.get(name), version) for name, version in pins.items() if installed.get(name) != version}
    assert not wrong, "installed, locked: " + repr(wrong)
    extra = sorted(set(installed) - set(pins))
    assert not extra, f"installed but not in the lock: {extra}"
