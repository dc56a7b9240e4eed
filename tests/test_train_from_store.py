"""`er train --labels-from-store` (issue 17, item 3): training with every label in a store,
`er label add` answers and steward decisions alike, counted by source in the output and
the MLflow run; labels that contradict each other reported, not dropped; one way of
giving labels at a time.

Each test works on its own copy of the store from a real `er dedup` (test_review) and
answers `er label next` from the demo data's truth.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import mlflow
import pandas as pd
from conftest import CONFIG, error_line, run_cli
from test_review import q, review_store_template, store  # noqa: F401


def _answer_from_truth(ask: Path, truth: Path) -> tuple[int, int]:
    """Fill in is_match of an `er label next` file from the truth; (matches, non-matches)."""
    entity = dict(pd.read_csv(truth, dtype=str)[["record_id", "entity_id"]].itertuples(
        index=False, name=None))
    with open(ask, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    same = 0
    with open(ask, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["record_id_l", "record_id_r", "is_match"])
        for r in rows:
            m = int(entity[r["record_id_l"]] == entity[r["record_id_r"]])
            same += m
            w.writerow([r["record_id_l"], r["record_id_r"], m])
    return same, len(rows) - same


def _value(output: str, key: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(key)).split()[-1]


def _artifact(run_id: str, path: str) -> dict:
    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path)
    return json.loads(Path(local).read_text(encoding="utf-8"))


def test_train_from_store_uses_label_answers_and_decisions_and_logs_their_counts(
        store, demo_files, tmp_path):  # noqa: F811
    customers, truth = demo_files
    ask = tmp_path / "ask.csv"
    run_cli("label", "next", "--store", store, "--n", "40", "--out", ask)
    same, different = _answer_from_truth(ask, truth)
    assert same and different
    run_cli("label", "add", ask, "--store", store, "--user", "wang")
    # a steward decision outside `er label`: two records of one customer, must-linked
    labelled = {(r["record_id_l"], r["record_id_r"]) for r in csv.DictReader(ask.open())}
    groups = pd.read_csv(truth, dtype=str).groupby("entity_id").record_id.apply(sorted)
    a, b = next(ids[:2] for ids in groups if len(ids) >= 2 and tuple(ids[:2]) not in labelled)
    run_cli("store", "must-link", "--store", store, a, b, "--who", "li")

    r = run_cli("train", "--config", CONFIG, "--input", customers, "--name", "from_store",
                "--labels-from-store", store, "--no-charts")
    out = r.output
    assert f"({same + 1} match, {different} non-match) from store" in out
    assert f"label {same} match / {different} non-match, must_link 1 match / 0 non-match" in out
    assert "m from labels where enough reach a comparison, EM elsewhere" in out
    # chosen labels are not a sample: no threshold recommended, no calibrator, and why
    assert "threshold:" not in out
    assert "no threshold is recommended and no calibrator fitted" in out

    run = mlflow.MlflowClient().get_run(_value(out, "run:"))
    p, m = run.data.params, run.data.metrics
    assert p["m_from"] == "mixed" and p["labels_kind"] == "pairs"
    assert p["labels"] == f"store {store}"
    assert m["labels_label_match"] == same and m["labels_label_non_match"] == different
    assert m["labels_must_link_match"] == 1
    assert m["labels_match_pairs"] == same + 1 and m["labels_non_match_pairs"] == different
    assert m["labels_contradictions"] == 0
    assert "recommended_threshold" not in m and "pairs_f1_at_config_threshold" in m
    trained = json.loads(Path(mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="training.json")).read_text())
    assert trained["recommended_threshold"] is None and trained["calibration"] is None
    counts = _artifact(run.info.run_id, "labels/label_counts.json")
    assert counts["by_source"]["label"] == {"match": same, "non_match": different}
    assert _artifact(run.info.run_id, "labels/contradictions.json") == {"contradictions": []}
    # m: the labels weigh in per comparison, by how many labelled matches reach it
    sources = _artifact(run.info.run_id, "diagnostics/m_sources.json")["comparisons"]
    assert any(s["labelled_matches"] > 0 for s in sources)
    assert all(0 <= s["label_weight"] < 1 for s in sources)


def test_train_from_store_reports_contradicting_labels(store, demo_files, tmp_path):  # noqa: F811
    customers, truth = demo_files
    ent = pd.read_csv(truth, dtype=str)
    big = ent.groupby("entity_id").record_id.apply(sorted)
    x, y, z = next(ids for ids in big if len(ids) >= 3)[:3]
    u, v = next(ids for ids in big if len(ids) >= 2 and x not in ids)[:2]
    f1 = tmp_path / "one.csv"
    # a chain x = y = z of matches, and x ~ z a non-match: they cannot all hold
    f1.write_text(f"record_id_l,record_id_r,is_match\n{x},{y},1\n{y},{z},1\n{x},{z},0\n"
                  f"{u},{v},1\n", encoding="utf-8")
    run_cli("label", "add", f1, "--store", store, "--user", "wang")
    f2 = tmp_path / "two.csv"  # another steward says u ~ v are different customers
    f2.write_text(f"record_id_l,record_id_r,is_match\n{u},{v},0\n", encoding="utf-8")
    run_cli("label", "add", f2, "--store", store, "--user", "li")

    r = run_cli("train", "--config", CONFIG, "--input", customers, "--name", "contradict",
                "--labels-from-store", store, "--no-charts", "--calibration", "none")
    warned = [line for line in r.output.splitlines()
              if line.startswith("warning:") and "contradict" in line]
    chain = [w for w in warned if f"{x} ~ {z} is a non-match" in w]
    assert chain and f"{x} = {y} = {z}" in chain[0]
    pair = [w for w in warned if f"pair {u} ~ {v}" in w]
    assert pair and "(wang)" in pair[0] and "(li)" in pair[0]
    assert "training uses the latest (non-match)" in pair[0]
    assert "2 contradicting label(s) reported" in r.output

    run_id = _value(r.output, "run:")
    found = _artifact(run_id, "labels/contradictions.json")["contradictions"]
    assert sorted(c["kind"] for c in found) == ["chain", "pair"]
    assert mlflow.MlflowClient().get_run(run_id).data.metrics["labels_contradictions"] == 2
    # nothing dropped: the chain's three labels and the latest on u ~ v are all used
    counts = _artifact(run_id, "labels/label_counts.json")
    assert counts["by_source"]["label"] == {"match": 2, "non_match": 2}


def test_labels_from_store_is_one_way_of_giving_labels(store, demo_files, tmp_path):  # noqa: F811
    customers, _ = demo_files
    pairs = tmp_path / "pairs.csv"
    run_cli("review", "export-labels", "--store", store, "--out", pairs)
    r = run_cli("train", "--config", CONFIG, "--input", customers, "--name", "both",
                "--labels-from-store", store, "--labels-pairs", pairs, expect=2)
    line = error_line(r)
    assert "--labels-from-store" in line and "--labels-pairs" in line

    # a store without any label yet: one line saying so
    r = run_cli("train", "--config", CONFIG, "--input", customers, "--name", "none",
                "--labels-from-store", store, expect=2)
    errors = [line for line in r.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no labels" in errors[0] and "Traceback" not in r.output

    import training
    from resolution.errors import InputError

    try:
        training.train(customers, CONFIG, labels_from_store=store, truth=pairs)
    except InputError as exc:
        assert "one way" in str(exc)
    else:
        raise AssertionError("labels_from_store with truth was accepted")
