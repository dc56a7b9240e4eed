"""Shared fixtures: a small generated demo data set and one model trained on it.

Tests drive the `er` CLI on real files in temporary folders with a real MLflow SQLite
tracking store, and read the results back with SQL.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from resolution.cli import app

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "customer_zh.yaml"


def run_cli(*args: str, expect: int | None = 0):
    result = CliRunner().invoke(app, [str(a) for a in args])
    if expect is not None and result.exit_code != expect:
        raise AssertionError(
            f"er {' '.join(map(str, args))} exited {result.exit_code}, expected {expect}\n"
            f"{result.output}\n{result.exception!r}"
        )
    return result


def trained_model_uri(result) -> str:
    """The registered model an `er train` run printed (`model: models:/NAME/VERSION`)."""
    return next(line for line in result.output.splitlines()
                if line.startswith("model:")).split()[-1]


def error_line(result) -> str:
    """A refused command's output, which must be one line starting `error:` (no
    traceback, nothing else); returned for the test to check what it says."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    return lines[0]


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> str:
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    old = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    yield uri
    if old is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = old


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory) -> tuple[Path, Path]:
    from training.demo_data import write_demo

    return write_demo(tmp_path_factory.mktemp("demo"), n_records=1500, seed=11)


@pytest.fixture(scope="session")
def trained_model(mlflow_store, demo_files) -> str:
    customers, _ = demo_files
    return trained_model_uri(
        run_cli("train", "--config", CONFIG, "--input", customers, "--name", "test_model"))
