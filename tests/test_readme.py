"""The README cannot drift from the CLI.

- Every `er ...` example in README.md (inline code and code blocks) and in every command's
  `--help` example names a real command, and only options that command has.
- Every command of the `er` CLI is documented in README.md.
- The README's tour block ("After `make demo`") runs, line by line, against a small demo
  made by `er demo`, in a folder laid out as `make demo` leaves the repository.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import run_cli

from resolution.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI = typer.main.get_command(app)


def _is_group(cmd: Any) -> bool:
    return hasattr(cmd, "commands")  # Typer vendors its own click: no isinstance here


def _commands(group: Any, path: tuple[str, ...] = ()):
    """Every command path of the CLI: ("store", "verify"), ("check",), ("check", "serve")."""
    if path:
        yield path, group
    if _is_group(group):
        for name, sub in group.commands.items():
            if not sub.hidden:
                yield from _commands(sub, (*path, name))


def _resolve(tokens: list[str]) -> tuple[tuple[str, ...], Any]:
    """The command an example's words name: subcommands are followed as far as they go."""
    cmd: Any = CLI
    path: tuple[str, ...] = ()
    for word in tokens:
        if _is_group(cmd) and word in cmd.commands:
            cmd = cmd.commands[word]
            path = (*path, word)
        elif not word.startswith("-") and path:
            break
    return path, cmd


def _options(cmd: Any) -> set[str]:
    names = {"--help"}
    for p in cmd.params:
        names.update(o for o in (*p.opts, *p.secondary_opts) if o.startswith("-"))
    return names


def _examples_in_readme() -> list[str]:
    found = [m.group(1) for m in re.finditer(r"`((?:\.venv/bin/)?er [^`]+)`", README)]
    in_blocks = False
    for line in README.splitlines():
        if line.startswith("```"):
            in_blocks = not in_blocks
        elif in_blocks and re.match(r"\s*(\.venv/bin/)?er ", line):
            found.append(line.strip())
    return found


def _examples_in_help() -> list[str]:
    """The `Example:` (and `Compare:`, `Models:`, `On Spark:`) lines of every --help."""
    found = []
    for _path, cmd in _commands(CLI):
        text = (cmd.help or "") + "\n" + (getattr(cmd, "short_help", None) or "")
        for m in re.finditer(r"(?:Example|Compare|Models|On Spark):\s+(er .+?)(?:\n\s*\n|$|;)",
                             text, flags=re.S):
            found.append(" ".join(m.group(1).split()))
    return found


def _words(example: str) -> list[str]:
    # the docs' shorthand: [--a X | --b Y], "...", a `\|` inside a table cell
    cleaned = re.sub(r"[\[\]]|\\\||(?<=\s)\|(?=\s)|\.\.\.|#.*$", " ", example)
    return cleaned.split()[1:]  # drop the leading `er`


def _check(example: str) -> list[str]:
    words = _words(example)
    path, cmd = _resolve(words)
    if not path:
        return [f"{example!r}: names no er command"]
    known = _options(cmd)
    return [f"{example!r}: `er {' '.join(path)}` has no option {w.split('=')[0]}"
            for w in words if w.startswith("--") and w.split("=")[0] not in known]


@pytest.mark.parametrize("source", ["README.md", "--help"])
def test_every_example_names_a_real_command_and_its_real_options(source):
    examples = _examples_in_readme() if source == "README.md" else _examples_in_help()
    assert len(examples) > 20, examples  # the extraction found the examples
    problems = [p for e in examples for p in _check(e)]
    assert problems == []


def test_every_command_is_documented_in_the_readme():
    documented: set[tuple[str, ...]] = set()
    for example in _examples_in_readme():
        words = _words(example)
        path, cmd = _resolve(words)
        documented.add(path)
        # `er store must-link / cannot-link / move`: siblings named in the same example
        parent = path[:-1]
        group = CLI
        for w in parent:
            group = group.commands[w]
        if _is_group(group):
            documented.update((*parent, w) for w in words if w in group.commands)
    missing = [" ".join(p) for p, cmd in _commands(CLI)
               if p not in documented and not _is_group(cmd)]
    assert missing == [], f"commands the README never shows: {missing}"


def _tour() -> list[str]:
    section = README.split("### After `make demo`: a tour", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_the_readme_tour_runs_against_the_demo(tmp_path, monkeypatch, mlflow_store):
    lines = _tour()
    assert len(lines) >= 5 and all(line.startswith(".venv/bin/er ") for line in lines)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    run_cli("demo", "--out", "demo", "--records", "1500")
    import duckdb

    crosswalk = tmp_path / "demo" / "job" / "crosswalk.parquet"

    def entities():
        return duckdb.sql(f"SELECT record_id, entity_id FROM '{crosswalk}' ORDER BY 1").fetchall()

    before = entities()
    first_job = os.readlink(tmp_path / "demo" / "job" / "current")
    assert len(before) == 1500
    for line in lines:
        args = shlex.split(line)[1:]
        result = run_cli(*args)
        assert "error:" not in result.output, line
    # the tour's dedup re-ran the job (a new run folder) and kept every record's entity
    assert os.readlink(tmp_path / "demo" / "job" / "current") != first_job
    assert entities() == before
    assert (tmp_path / "demo" / "ask.csv").stat().st_size > 0
    assert (tmp_path / "demo" / "backup" / "manifest.json").exists()
