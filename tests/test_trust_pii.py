"""Personal data never reaches MLflow: after training a model on the demo data, and a
dedup job that logs its quality report, no artifact, param or tag of any run holds a
mobile, e-mail, ID card, USCC, full customer name or address from the input."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import CONFIG, run_cli


def _pii_values(customers: Path) -> set[str]:
    found: set[str] = set()
    with customers.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for col, min_len in (("mobile", 11), ("email", 6), ("id_card", 15), ("uscc", 18),
                                 ("customer_name", 6), ("address", 10)):
                v = (row.get(col) or "").strip()
                if len(v) >= min_len:
                    found.add(v)
    return found


def test_no_personal_data_in_mlflow(mlflow_store, trained_model, demo_files, tmp_path):
    import mlflow
    from mlflow.tracking import MlflowClient

    customers, _ = demo_files
    run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", customers,
            "--out", tmp_path / "out")
    pii = _pii_values(customers)
    client = MlflowClient(mlflow_store)
    runs = [r for e in client.search_experiments() for r in client.search_runs([e.experiment_id])]
    assert runs
    leaks, files = [], 0
    for run in runs:
        texts = [f"{k}={v}" for k, v in {**run.data.params, **run.data.tags}.items()]
        dst = tmp_path / "art" / run.info.run_id
        dst.mkdir(parents=True)
        local = Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=str(dst)))
        for p in local.rglob("*"):
            if p.is_file() and p.suffix not in (".png", ".pkl", ".parquet") and p.stat().st_size < 20_000_000:
                files += 1
                texts.append(p.read_bytes().decode("utf-8", errors="ignore"))
        blob = "\n".join(texts)
        leaks += [f"{run.info.run_name}: {v}" for v in pii if v in blob]
    print(f"[pii] scanned {len(runs)} runs, {files} artifact files, {len(pii)} personal values: "
          f"{len(leaks)} found")
    assert not leaks, leaks[:10]
