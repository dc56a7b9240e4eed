"""Lint and types are part of the test command: ruff with the rule selection pinned in
pyproject.toml, and mypy against a baseline of the findings the code had when type
checking was introduced (mypy-baseline.txt): a new finding fails, a fixed one is dropped
from the baseline with `make baseline`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff_finds_nothing():
    r = subprocess.run([str(BIN / "ruff"), "check", "resolution", "training", "tests",
                        "benchmarks"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_finds_nothing_beyond_the_baseline():
    mypy = subprocess.run([str(BIN / "mypy"), "resolution", "training"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert "error: " in mypy.stdout or mypy.returncode == 0, mypy.stdout + mypy.stderr
    new = subprocess.run([str(BIN / "mypy-baseline"), "filter", "--no-colors"], cwd=ROOT,
                         input=mypy.stdout, capture_output=True, text=True, check=False)
    assert new.returncode == 0, "new type errors (fix them, not the baseline):\n" + new.stdout
