"""The Python facade (`import resolution as er`): the same jobs as the CLI, on files or
DataFrames, with models by reference or loaded."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

import resolution as er


def _crosswalk(store):
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("SELECT record_id, entity_id FROM crosswalk ORDER BY 1").fetchall()
    finally:
        con.close()


def test_dedup_from_a_frame_equals_dedup_from_the_file(trained_model, demo_files, tmp_path):
    customers, _ = demo_files
    config = er.load_config()  # the packaged customer_zh preset
    model = er.load_model(trained_model)
    from_file = er.dedup(customers, config, model, out=tmp_path / "a")
    frame = pd.read_csv(customers, dtype=str, keep_default_na=False)
    from_frame = er.dedup(frame, config, trained_model, out=tmp_path / "b")
    assert from_file.accepted == from_frame.accepted == len(frame)
    assert from_file.entities == from_frame.entities
    assert _crosswalk(tmp_path / "a" / "store.duckdb") == _crosswalk(tmp_path / "b" / "store.duckdb")
    summary = json.loads((tmp_path / "b" / "summary.json").read_text("utf-8"))
    assert summary["job_id"] == from_frame.job_id


def test_match_profile_and_checker_through_the_facade(trained_model, demo_files, tmp_path):
    customers, _ = demo_files
    frame = pd.read_csv(customers, dtype=str, keep_default_na=False)
    config = er.load_config()
    er.dedup(frame.iloc[:1000], config, trained_model, out=tmp_path / "job")
    store = tmp_path / "job" / "store.duckdb"
    m = er.match(frame.iloc[1000:], config, trained_model, store=store)
    assert m.new_records == len(frame) - 1000
    report = er.profile(frame, out=tmp_path / "profile")
    assert (tmp_path / "profile" / "quality.json").exists() and "passed" in report
    checker = er.Checker.from_reference(store, trained_model, config)
    try:
        row = frame.iloc[0].to_dict()
        result = checker.check({k: v for k, v in row.items() if k != "record_id" and v})
        assert result.candidates, "a record already in the store finds itself"
    finally:
        checker.close()


def test_facade_errors_are_the_engine_errors(tmp_path):
    with pytest.raises(er.ConfigError):
        er.load_config(tmp_path / "missing.yaml")
    with pytest.raises(er.ModelError):
        er.load_model(tmp_path / "missing.json")
    with pytest.raises(er.InputError):
        er.profile(42, out=tmp_path / "p")
