"""The house rules that keep the code readable: one direction of dependencies, and a
package that works when installed as a wheel (not only from the source tree)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The CLI is the one composition root that wires the runtime and training together.
COMPOSITION_ROOTS = {Path("resolution/cli.py")}


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_the_runtime_never_imports_training():
    offenders = []
    for path in sorted((ROOT / "resolution").rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel in COMPOSITION_ROOTS:
            continue
        tree = ast.parse(path.read_text("utf-8"), str(rel))
        offenders += [f"{rel}:{line} imports {mod}" for line, mod in _imported_modules(tree)
                      if mod == "training" or mod.startswith("training.")]
    assert not offenders, "resolution/ must not import training/:\n" + "\n".join(offenders)


def test_every_package_folder_is_in_the_wheel():
    """pyproject lists packages explicitly (configs/ is mapped to `resolution.presets`), so
    a new subpackage must be added there or the wheel silently lacks it."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {
        ".".join(d.relative_to(ROOT).parts)
        for top in ("resolution", "training")
        for d in [ROOT / top, *(ROOT / top).rglob("*")]
        if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py"))
    }
    assert found - listed == set(), f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_a_wheel_install_runs_the_demo_from_any_folder(tmp_path):
    """`pip install .` (not editable) gives a working `er demo`: configs ship as package
    data. The wheel is installed into its own folder, which shadows the editable install."""
    wheels, target, work = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    work.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(wheels.glob("resolution-*.whl"))
    inst = subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert inst.returncode == 0, inst.stderr[-2000:]
    env = {**os.environ, "PYTHONPATH": str(target),
           "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    where = subprocess.run([sys.executable, "-c", "import resolution; print(resolution.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=False)
    assert where.stdout.strip().startswith(str(target)), where.stdout + where.stderr
    demo = subprocess.run(
        [sys.executable, "-m", "resolution.cli", "demo", "--records", "1500", "--out", "demo"],
        cwd=work, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert (work / "demo" / "job" / "summary.json").exists()
    # the review app (its routes are a subpackage) starts from the wheel on the demo store
    review = subprocess.run(
        [sys.executable, "-c", ("from resolution.review.app import create_app; print(create_app("
                                "'demo/store.duckdb').url_path_for('act_undo', entity_id='E1'))")],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert review.returncode == 0 and review.stdout.strip() == "/entity/E1/undo", (
        review.stdout[-2000:] + review.stderr[-3000:])
