"""Training as a data scientist sees it: the `er` CLI, then MLflow's own APIs.

A supervised run is trained once (module fixture) on the session's demo data with its
ground truth; the tests read the run back through `MlflowClient`, promote the model and
load it by alias through `mlflow.pyfunc`.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from conftest import CONFIG, run_cli


def _value(output: str, key: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(key)).split()[-1]


def _artifacts(client, run_id, path=""):
    found = {}
    for f in client.list_artifacts(run_id, path):
        if f.is_dir:
            found.update(_artifacts(client, run_id, f.path))
        else:
            found[f.path] = f.file_size
    return found


@pytest.fixture(scope="module")
def supervised(mlflow_store, demo_files):
    customers, truth = demo_files
    result = run_cli(
        "train", "--config", CONFIG, "--input", customers, "--name", "supervised_model",
        "--truth", truth, "--target-precision", "0.95",
    )
    return {"run_id": _value(result.output, "run:"), "model": _value(result.output, "model:"),
            "output": result.output}


def test_a_supervised_run_has_params_metrics_charts_and_a_calibrated_model(supervised):
    client = mlflow.MlflowClient()
    run = client.get_run(supervised["run_id"])
    params, metrics = run.data.params, run.data.metrics
    # reproducibility: data fingerprint, code version, how it was trained
    assert params["training_rows"] == "1500"
    assert len(params["training_data_hash"]) == 16
    assert params["code_version"] and params["code_version"] != "unknown"
    assert params["m_from"] == "labels" and params["labels_kind"] == "clusters"
    assert params["link_type"] == "dedupe_only"
    assert run.inputs.dataset_inputs[0].dataset.digest == params["training_data_hash"]
    # grouped by model name by default
    assert client.get_experiment(run.info.experiment_id).name == "er-supervised_model"
    # diagnostics and evaluation
    assert 0 < metrics["probability_two_random_records_match"] < 0.01
    assert metrics["pairs_precision_at_recommended"] >= 0.95  # the target was met
    assert 0 < metrics["recommended_threshold"] < 1
    assert metrics["ece_calibrated"] < metrics["ece_raw"]
    assert metrics["clusters_bcubed_f1"] > 0.85
    assert metrics["clusters_false_positive_pairs"] >= 0
    arts = _artifacts(client, run.info.run_id)
    for name in (
        "settings.json", "config.yaml", "training.json", "calibration.json",
        "diagnostics/model_parameters.json", "evaluation/threshold_sweep.json",
        "charts/match_weights.html", "charts/match_weights.png", "charts/m_u_parameters.html",
        "charts/match_weights_histogram.html", "charts/precision_recall.html",
        "charts/threshold_selection.html", "charts/reliability.png",
    ):
        assert arts.get(name, 0) > 0, f"{name} missing from the run's artifacts"
    local = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="diagnostics/model_parameters.json"
    )
    levels = json.loads(Path(local).read_text(encoding="utf-8"))["parameters"]
    assert {lv["comparison"] for lv in levels} >= {"customer_name", "mobile", "address"}
    assert all(0 <= lv["m_probability"] <= 1 and 0 <= lv["u_probability"] <= 1 for lv in levels)
    assert f"threshold: {metrics['recommended_threshold']:.4f} recommended" in supervised["output"]


def test_an_unsupervised_run_records_each_em_session(trained_model):
    client = mlflow.MlflowClient()
    name, version = trained_model.removeprefix("models:/").split("/")
    run = client.get_run(client.get_model_version(name, version).run_id)
    m = run.data.metrics
    assert m["em_sessions"] >= 2
    assert m["em_1_iterations"] >= 1
    assert m["em_1_converged"] in (0.0, 1.0)
    assert run.data.params["m_from"] == "em"
    local = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="diagnostics/em_sessions.json"
    )
    sessions = json.loads(Path(local).read_text(encoding="utf-8"))["em_sessions"]
    assert len(sessions) == m["em_sessions"]
    assert all(s["iterations"] <= s["max_iterations"] for s in sessions)
    assert "calibration.json" not in _artifacts(client, run.info.run_id)


def test_promote_then_serve_by_alias_through_pyfunc(supervised, demo_files):
    customers, truth = demo_files
    name = "supervised_model"
    version = supervised["model"].rsplit("/", 1)[-1]
    out = run_cli("models", "promote", name, version, "--alias", "champion").output
    assert f"models:/{name}@champion -> version {version}" in out
    listed = json.loads(run_cli("models", "list", name, "--json").output)
    assert listed[0]["aliases"] == ["champion"]
    assert "pairs_f1_at_recommended" in listed[0]["metrics"]

    model = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    frame = pd.read_csv(customers, dtype=str)
    t = pd.read_csv(truth, dtype=str)
    # 40 entities with several records each, so there is something to resolve
    big = t.groupby("entity_id").filter(lambda g: len(g) >= 2)
    ids = big[big.entity_id.isin(big.entity_id.unique()[:40])].record_id
    sample = frame[frame.record_id.isin(ids)]
    result = model.predict(sample)
    assert list(result.columns) == [
        "record_id", "entity_id", "membership_confidence", "cluster_confidence"
    ]
    assert sorted(result.record_id) == sorted(sample.record_id)
    assert result.membership_confidence.between(0, 1).all()
    joined = result.merge(t, on="record_id", suffixes=("", "_true"))
    # records are grouped (not all singletons), and groups rarely mix true entities
    whole = joined.groupby("entity_id_true").entity_id.nunique().eq(1).mean()
    pure = joined.groupby("entity_id").entity_id_true.nunique().eq(1).mean()
    assert whole >= 0.5
    assert pure >= 0.9
    assert result.entity_id.nunique() < len(result) * 0.8

    # the job side resolves the same artifact, calibrator included
    from training import calibration
    from training.registry import resolve_model

    loaded = resolve_model(f"models:/{name}@champion")
    assert loaded.calibration is not None and loaded.meta["link_type"] == "dedupe_only"
    assert calibration.apply(loaded, [0.5]).tolist() != [0.5]


def test_pair_labels_train_a_link_only_model_with_platt_calibration(
    mlflow_store, demo_files, tmp_path
):
    customers, truth = demo_files
    t = pd.read_csv(truth, dtype=str)
    matches = t.merge(t, on="entity_id").query("record_id_x < record_id_y")
    shuffled = t.sample(frac=1.0, random_state=1).record_id.to_numpy()
    non = pd.DataFrame({"record_id_x": t.record_id, "record_id_y": shuffled})
    non = non.merge(t, left_on="record_id_x", right_on="record_id").merge(
        t, left_on="record_id_y", right_on="record_id", suffixes=("_a", "_b"))
    non = non[non.entity_id_a != non.entity_id_b]
    pairs = pd.concat([
        pd.DataFrame({"record_id_l": matches.record_id_x, "record_id_r": matches.record_id_y,
                      "is_match": 1}),
        pd.DataFrame({"record_id_l": non.record_id_x, "record_id_r": non.record_id_y,
                      "is_match": 0}),
    ])
    path = tmp_path / "pairs.csv"
    pairs.to_csv(path, index=False)
    result = run_cli(
        "train", "--config", CONFIG, "--input", customers, "--name", "linker_model",
        "--labels-pairs", path, "--link-type", "link_only", "--calibration", "platt",
        "--no-charts", "--experiment", "linking",
    )
    run = mlflow.MlflowClient().get_run(_value(result.output, "run:"))
    assert run.data.params["labels_kind"] == "pairs"
    assert run.data.params["calibration"] == "platt"
    assert "pairs_f1_at_recommended" in run.data.metrics
    from training.registry import resolve_model

    loaded = resolve_model(_value(result.output, "model:"))
    assert loaded.link_type == "link_only"
    assert loaded.calibration["method"] == "platt"


def test_evaluate_compares_models_side_by_side_and_logs_to_mlflow(
    supervised, trained_model, demo_files
):
    customers, truth = demo_files
    result = run_cli(
        "evaluate", "--model", supervised["model"], "--model", trained_model, "--config",
        CONFIG, "--input", customers, "--truth", truth, "--json", "--experiment", "compare",
    )
    rows = json.loads(result.output)
    assert [r["reference"] for r in rows] == [supervised["model"], trained_model]
    assert all(r["records"] == 1500 and 0.5 < r["bcubed_f1"] <= 1 for r in rows)
    client = mlflow.MlflowClient()
    exp = client.get_experiment_by_name("compare")
    runs = client.search_runs([exp.experiment_id])
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert sorted(r.data.params["reference"] for r in children) == sorted(
        [supervised["model"], trained_model])
    assert all("pairwise_f1" in r.data.metrics for r in children)


def test_training_and_registry_user_errors(mlflow_store, demo_files, tmp_path):
    customers, truth = demo_files
    res = run_cli(
        "train", "--config", CONFIG, "--input", customers, "--truth", truth,
        "--labels-column", "entity_id", expect=2,
    )
    assert "error: give labels one way" in res.output
    res = run_cli("models", "promote", "no_such_model", "1", expect=2)
    assert res.output.startswith("error:") and "no version 1" in res.output
    res = run_cli("evaluate", "--truth", truth, expect=2)
    assert "error:" in res.output


def test_evaluate_compares_finished_jobs_side_by_side(trained_model, demo_files, tmp_path):
    import shutil

    customers, truth = demo_files
    run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", customers,
            "--out", tmp_path / "jobA")
    shutil.copytree(tmp_path / "jobA", tmp_path / "jobB")
    table = run_cli("evaluate", "--out", tmp_path / "jobA", "--out", tmp_path / "jobB",
                    "--truth", truth, "--no-mlflow").output
    assert "side by side" in table and "jobA" in table and "jobB" in table
    rows = json.loads(run_cli("evaluate", "--out", tmp_path / "jobA", "--out", tmp_path / "jobB",
                              "--truth", truth, "--json", "--no-mlflow").output)
    assert [r["label"] for r in rows] == ["jobA", "jobB"]
    assert rows[0]["pairwise_f1"] == rows[1]["pairwise_f1"] > 0.8


# --------------------------------------------------------------------------- comparison levels


def _level_of(comparison: str, left: dict, right: dict, settings: dict | None = None) -> str:
    """The label of the first level of `comparison` (default config) that a pair reaches."""
    import duckdb

    from resolution.config import load_config
    from resolution.model.settings import build_settings

    # the levels as built, without model.parties' conditioning (tests/test_model_constraints.py)
    settings = settings or build_settings(load_config(CONFIG), parties=False)
    comp = next(c for c in settings["comparisons"] if c["output_column_name"] == comparison)
    cols = sorted(set(left) | set(right))
    select = ", ".join(
        [f"?::VARCHAR AS \"{c}_l\"" for c in cols] + [f"?::VARCHAR AS \"{c}_r\"" for c in cols]
    )
    params = [left.get(c) for c in cols] + [right.get(c) for c in cols]
    con = duckdb.connect()
    con.execute(f"CREATE TABLE p AS SELECT {select}", params)
    for level in comp["comparison_levels"]:
        if level["sql_condition"] == "ELSE" or con.execute(
            f"SELECT count(*) FROM p WHERE {level['sql_condition']}"
        ).fetchone()[0]:
            return level["label_for_charts"]
    raise AssertionError("no level reached")


def test_a_shared_landline_is_counted_by_the_phone_comparison_only():
    hq = "+862133599599"
    a = {"mobile_key": "+8618604794183", "phone_key": hq}
    b = {"mobile_key": "+8615623469637", "phone_key": hq}
    assert _level_of("phone", a, b) == "same number"
    # the mobile comparison must not count the same landline a second time
    assert _level_of("mobile", a, b) == "different"
    # a mobile typed into the phone field is still found, in either direction
    c = {"mobile_key": None, "phone_key": "+8618604794183"}
    assert _level_of("mobile", a, c) == "a number in common"
    assert _level_of("mobile", c, a) == "a number in common"
    assert _level_of("mobile", a, dict(a)) == "same number"


def test_an_address_in_another_city_is_a_different_address():
    # 万寿路 is in 广州 and in 长沙, and a chain names its store on it 万寿店 in both: road,
    # number and most characters agree, yet two known, different cities are two places
    here = {"address_std": "万寿西路448号", "district_std": "从化区", "addr_road": "万寿西路",
            "addr_number": "448", "city_std": "广州市"}
    there = {**here, "district_std": "望城区", "city_std": "长沙市"}
    assert _level_of("address", here, {**here, "address_std": "万寿西路448号1楼"}) == (
        "same road and number")
    assert _level_of("address", here, there) == "different"
    assert _level_of("address", here, {**there, "address_std": "万寿西路448号1楼"}) == "different"
    assert _level_of("address", here, {**there, "addr_number": "186"}) == "different"
    assert _level_of("address", here, {**here, "address_std": "万寿西路186号", "addr_number": "186"}
                     ) == "same road"
    # a record with no city is not in another one
    assert _level_of("address", here, {**here, "city_std": None}) == "same address"
    assert _level_of("address", here, {**there, "city_std": None, "district_std": None}) == (
        "same address")


def test_a_branch_against_its_head_office_is_its_own_level_with_a_fixed_m():
    from resolution.model.settings import HEAD_OFFICE_M

    branch = {"name_branch": "longhua", "name_legal_form": "股份有限公司"}
    head_office = {"name_branch": None, "name_legal_form": "股份有限公司"}
    bare = {"name_branch": None, "name_legal_form": None}
    assert _level_of("branch", branch, head_office) == (
        "one names a branch, the other is the legal entity"
    )
    assert _level_of("branch", head_office, branch) == (
        "one names a branch, the other is the legal entity"
    )
    assert _level_of("branch", branch, bare) == "only one names a branch"
    assert _level_of("branch", branch, dict(branch)) == "same branch"
    assert _level_of("branch", branch, {**branch, "name_branch": "gaoxin"}) == "different branches"
    assert _level_of("branch", head_office, bare) == "neither names a branch"

    # unsupervised training keeps the domain prior for the head-office level
    import tempfile

    import duckdb

    from resolution.config import load_config
    from resolution.pipeline import prepare_records
    from training.demo_data import write_demo
    from training.fitting import fit_model

    config = load_config(CONFIG)
    with tempfile.TemporaryDirectory() as tmp:
        customers, _truth = write_demo(Path(tmp), n_records=1500, seed=3)
        con = duckdb.connect()
        prepare_records(con, config, [customers], None, {}, lambda _s: None)
        return_settings = fit_model(con, config)
    levels = next(
        c for c in return_settings["comparisons"] if c["output_column_name"] == "branch"
    )["comparison_levels"]
    ho = next(lv for lv in levels if lv["label_for_charts"].startswith("one names a branch"))
    assert ho["m_probability"] == pytest.approx(HEAD_OFFICE_M)
    assert ho["u_probability"] > 0
    trained = next(lv for lv in levels if lv["label_for_charts"] == "same branch")
    assert trained["m_probability"] != pytest.approx(HEAD_OFFICE_M)


def test_em_rounds_sample_blocked_pairs_above_em_max_pairs(mlflow_store, demo_files, tmp_path):
    """model.training.em_max_pairs caps each EM round with Splink's record sampling: a
    round whose rule blocks more pairs than the cap samples, the others use all pairs."""
    import yaml

    customers, _ = demo_files
    cfg = yaml.safe_load(Path(CONFIG).read_text(encoding="utf-8"))
    cfg["model"]["training"]["em_max_pairs"] = 400
    path = tmp_path / "capped.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    out = run_cli("train", "--config", path, "--input", customers, "--name", "capped").output
    client = mlflow.MlflowClient()
    run_id = _value(out, "run:")
    assert client.get_run(run_id).data.params["em_max_pairs"] == "400.0"
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="diagnostics/em_sessions.json"
    )
    sessions = json.loads(Path(local).read_text(encoding="utf-8"))["em_sessions"]
    sampled = [s for s in sessions if s["pairs_sampled"]]
    assert sampled, sessions
    for s in sessions:
        if s["pairs_sampled"]:
            assert s["blocked_pairs_estimate"] > 400
            assert s["pairs_used_estimate"] < s["blocked_pairs_estimate"]
        elif s["blocked_pairs_estimate"] is not None:
            assert s["blocked_pairs_estimate"] <= 400
    assert all(s["iterations"] >= 1 for s in sessions)
