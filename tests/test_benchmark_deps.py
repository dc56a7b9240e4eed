"""The benchmarks declare what they need: every third-party module a `benchmarks/*.py`
imports comes with the base install or the `benchmarks` extra (issue 22: in a venv made
by `make demo`, scale.py died after training for want of psutil)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL = {"resolution", "training", "benchmarks"}
# import names whose distribution is named otherwise (when it is not installed here,
# packages_distributions cannot say)
DISTRIBUTION = {"stdnum": "python-stdnum", "er_evaluation": "er-evaluation",
                "yaml": "pyyaml", "sklearn": "scikit-learn", "vl_convert": "vl-convert-python"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _benchmark_imports() -> dict[str, set[str]]:
    """Top-level module -> the benchmark files importing it, scripts they run from a string
    (`python -c`, like scale.py's RSS monitor) included."""
    used: dict[str, set[str]] = {}
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        mods = _imports(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and "import " in node.value:
                try:
                    mods |= _imports(ast.parse(node.value))
                except SyntaxError:
                    pass
        for mod in mods:
            used.setdefault(mod, set()).add(path.name)
    return used


def test_the_benchmarks_extra_carries_every_benchmark_import():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    declared = {
        _norm(re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0])
        for req in project["dependencies"] + project["optional-dependencies"]["benchmarks"]
    }
    local = LOCAL | {p.stem for p in (ROOT / "benchmarks").glob("*.py")}
    installed = packages_distributions()
    missing = []
    for mod, files in sorted(_benchmark_imports().items()):
        if mod in sys.stdlib_module_names or mod in local:
            continue
        names = {_norm(mod), _norm(DISTRIBUTION.get(mod, mod))}
        names |= {_norm(d) for d in installed.get(mod, [])}
        if not names & declared:
            missing.append(f"{mod} ({', '.join(sorted(files))})")
    assert not missing, (
        "add to [project.optional-dependencies] benchmarks in pyproject.toml: "
        + "; ".join(missing)
    )
