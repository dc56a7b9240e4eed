"""The training facade: `import training` trains on a DataFrame or files, returns a model
whose Splink linker stays open for charts, that `er.dedup` takes as it is, that saves to a
folder `er dedup --model` reads, and that registers in MLflow only when asked."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from conftest import CONFIG, run_cli

import resolution as er
import training
from resolution.config import config_from_dict


def _runs(store: str) -> int:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=store)
    ids = [e.experiment_id for e in client.search_experiments()]
    return len(client.search_runs(ids, max_results=50_000)) if ids else 0


def _entities(out: Path) -> set[frozenset[str]]:
    """The job's entities as sets of record IDs (entity IDs themselves may differ)."""
    con = duckdb.connect(str(out / "job.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT entity_id, list(record_id) FROM crosswalk GROUP BY 1").fetchall()
    finally:
        con.close()
    return {frozenset(ids) for _, ids in rows}


def test_train_on_a_frame_without_registering_logs_nothing(mlflow_store, demo_files, tmp_path):
    customers, truth = demo_files
    frame = pd.read_csv(customers, dtype=str, keep_default_na=False)
    before = _runs(mlflow_store)

    with training.train(frame) as model:  # the default config, register=False
        assert _runs(mlflow_store) == before
        assert model.model_uri is None and model.version is None and model.run_id is None
        assert model.settings["comparisons"] and model.calibration is None
        assert model.metrics["probability_two_random_records_match"] > 0
        # Splink's charts, one call away, from the linker kept open
        assert "vega" in model.match_weights_chart().to_html().lower()
        assert model.waterfall_chart(limit=3).to_html()
        assert model.linker.visualisations.m_u_parameters_chart() is not None

        summary = er.dedup(frame, None, model, out=tmp_path / "job")
        assert 0 < summary.entities < summary.accepted == len(frame)
        metrics = training.evaluate(summary, truth)
        assert metrics.pairwise_f1 > 0.5
        assert 0 < metrics.pairwise_precision <= 1 and 0 < metrics.pairwise_recall <= 1
        # the truth as a frame, the job as its folder: the same figures
        truth_frame = pd.read_csv(truth, dtype=str)
        again = training.evaluate(tmp_path / "job", truth_frame).as_dict()
        assert again == pytest.approx(metrics.as_dict())

    # closed: the linker is gone, the model itself still applies
    with pytest.raises(er.ResolutionError, match="closed"):
        model.match_weights_chart()
    again = er.dedup(frame, None, model, out=tmp_path / "again")
    assert _entities(tmp_path / "again") == _entities(tmp_path / "job")


def test_register_saves_and_the_cli_reads_the_saved_model(mlflow_store, demo_files, tmp_path):
    customers, truth = demo_files
    config = er.load_config()  # a Config object: its YAML is logged with the model
    before = _runs(mlflow_store)

    with training.train(customers, config, truth=truth, name="api_supervised",
                        register=True, charts=False) as model:
        assert _runs(mlflow_store) == before + 1
        assert model.model_uri == f"models:/api_supervised/{model.version}"
        assert model.recommended_threshold is not None and model.calibration is not None
        assert "pairs_f1_at_recommended" in model.metrics

        loaded = er.load_model(model.model_uri)
        assert loaded.settings == model.settings
        assert loaded.calibration == model.calibration
        assert config_from_dict(yaml.safe_load(loaded.config_yaml), "logged") == config

        saved = model.save(tmp_path / "saved")
        assert er.load_model(saved).calibration == model.calibration
        er.dedup(customers, config, model, out=tmp_path / "direct")

    run_cli("dedup", "--config", CONFIG, "--model", saved,
            "--input", customers, "--out", tmp_path / "cli")
    run_cli("dedup", "--config", CONFIG, "--model", saved / "settings.json",
            "--input", customers, "--out", tmp_path / "cli-json")
    direct = _entities(tmp_path / "direct")
    assert _entities(tmp_path / "cli") == direct
    assert _entities(tmp_path / "cli-json") == direct


def test_register_needs_a_name(demo_files):
    customers, _ = demo_files
    with pytest.raises(er.InputError, match="needs a name"):
        training.train(customers, register=True)
