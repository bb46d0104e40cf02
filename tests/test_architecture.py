"""The layers of device/ are contracts a tool checks (pyproject.toml, docs/architecture.md): a leak fails lint."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path):
    """A copy of the packages and their contracts, to break."""
    for package in ("device", "dashboard"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed here (make test installs it)")
def test_the_contracts_hold_for_the_code_as_it_is(tree):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed here (make test installs it)")
@pytest.mark.parametrize(
    "module, leak, broken",
    [
        ("device/core/minutes.py", "import device.storage.store", "each layer imports only the layers below it"),
        ("device/core/pipeline.py", "import sqlite3", "device.core is pure"),
        ("device/core/prompts.py", "import time", "device.core is pure"),
        ("device/config/schema.py", "import device.core.events", "each layer imports only the layers below it"),
        ("dashboard/history.py", "import device.daemon.loop", "the dashboard reads the history through device.storage"),
        ("device/daemon/loop.py", "import sqlite3", "SQL lives in device.storage"),
    ],
)
def test_a_module_that_imports_across_a_layer_breaks_a_contract(tree, module, leak, broken):
    path = tree / module
    text = path.read_text()
    path.write_text(
        text.replace("from __future__ import annotations\n", f"from __future__ import annotations\n\n{leak}\n", 1)
    )
    result = lint_imports(tree)
    assert result.returncode != 0
    assert broken in result.stdout and "BROKEN" in result.stdout
