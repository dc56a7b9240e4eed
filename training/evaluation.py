"""Evaluate predicted entities against ground truth, from cluster contingency counts.

No pair lists are built: with n_ij the number of records in predicted cluster i and true
entity j, a_i and b_j the cluster sizes,
- true-positive pairs  TP = sum_ij C(n_ij, 2); predicted pairs = sum_i C(a_i, 2);
  true pairs = sum_j C(b_j, 2); pairwise precision = TP / predicted, recall = TP / true.
- B-cubed precision = (1/N) sum_ij n_ij^2 / a_i, recall = (1/N) sum_ij n_ij^2 / b_j.
Records present in only one of the two tables are left out (and counted).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from resolution import crypto
from resolution.db import rows
from resolution.errors import InputError


@dataclass(frozen=True)
class Metrics:
    records: int
    predicted_clusters: int
    true_clusters: int
    true_positive_pairs: int
    predicted_pairs: int
    true_pairs: int
    false_positive_pairs: int
    false_negative_pairs: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    unmatched_records: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def metrics_from_tables(
    con: duckdb.DuckDBPyConnection, predicted: str, truth: str
) -> Metrics:
    """`predicted` and `truth` are tables or views with columns (record_id, entity_id)."""
    (
        n, a_clusters, b_clusters, tp, pred_pairs, true_pairs, bp, br, unmatched
    ) = rows(
        con,
        f"""
        WITH p AS (SELECT CAST(record_id AS VARCHAR) AS rid, CAST(entity_id AS VARCHAR) AS c
                   FROM {predicted}),
             t AS (SELECT CAST(record_id AS VARCHAR) AS rid, CAST(entity_id AS VARCHAR) AS e
                   FROM {truth}),
             j AS (SELECT p.c, t.e FROM p JOIN t USING (rid)),
             nij AS (SELECT c, e, count(*)::BIGINT AS n FROM j GROUP BY c, e),
             ai AS (SELECT c, sum(n) AS a FROM nij GROUP BY c),
             bj AS (SELECT e, sum(n) AS b FROM nij GROUP BY e)
        SELECT (SELECT sum(n) FROM nij),
               (SELECT count(*) FROM ai),
               (SELECT count(*) FROM bj),
               (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM nij),
               (SELECT coalesce(sum(a * (a - 1) // 2), 0) FROM ai),
               (SELECT coalesce(sum(b * (b - 1) // 2), 0) FROM bj),
               (SELECT sum(n * n / a) FROM nij JOIN ai USING (c)),
               (SELECT sum(n * n / b) FROM nij JOIN bj USING (e)),
               (SELECT count(*) FROM p FULL JOIN t USING (rid) WHERE p.rid IS NULL OR t.rid IS NULL)
        """,
    )[0]
    if not n:
        raise InputError("no record_id is shared by the predictions and the truth file")
    tp, pred_pairs, true_pairs = int(tp), int(pred_pairs), int(true_pairs)
    pp = tp / pred_pairs if pred_pairs else 1.0
    pr = tp / true_pairs if true_pairs else 1.0
    bcp, bcr = float(bp) / n, float(br) / n
    return Metrics(
        records=int(n),
        predicted_clusters=int(a_clusters),
        true_clusters=int(b_clusters),
        true_positive_pairs=tp,
        predicted_pairs=pred_pairs,
        true_pairs=true_pairs,
        false_positive_pairs=pred_pairs - tp,
        false_negative_pairs=true_pairs - tp,
        pairwise_precision=pp,
        pairwise_recall=pr,
        pairwise_f1=_f1(pp, pr),
        bcubed_precision=bcp,
        bcubed_recall=bcr,
        bcubed_f1=_f1(bcp, bcr),
        unmatched_records=int(unmatched),
    )


def load_truth(con: duckdb.DuckDBPyConnection, path: str | Path, table: str = "truth") -> None:
    """Load a `record_id,entity_id` CSV or Parquet file into `table`."""
    from resolution.ingest import read_input

    read_input(con, path, "_truth_raw")
    cols = {c.lower(): c for c in (r[0] for r in con.execute("DESCRIBE _truth_raw").fetchall())}
    missing = [c for c in ("record_id", "entity_id") if c not in cols]
    if missing:
        raise InputError(
            f"{path}: truth file needs columns record_id,entity_id; missing {', '.join(missing)}"
        )
    con.execute(
        f'CREATE OR REPLACE TABLE {table} AS SELECT "{cols["record_id"]}" AS record_id, '
        f'"{cols["entity_id"]}" AS entity_id FROM _truth_raw WHERE "{cols["record_id"]}" IS NOT NULL'
    )
    con.execute("DROP TABLE _truth_raw")


def evaluate_job(out_dir: str | Path, truth_path: str | Path) -> Metrics:
    """Metrics of a finished job's crosswalk in `out_dir` against a truth file."""
    job = Path(out_dir) / "job.duckdb"
    if not job.is_file():
        raise InputError(f"no job results in {out_dir} (expected {job}); run `er dedup` first")
    con = crypto.connect()
    try:
        crypto.attach(con, job, "job", read_only=True)
        load_truth(con, truth_path)
        return metrics_from_tables(con, "job.crosswalk", "truth")
    finally:
        con.close()


# ------------------------------------------------------------------ side-by-side comparison


@dataclass(frozen=True)
class Evaluated:
    """One evaluated result: a job folder or a model, with its metrics."""

    label: str
    kind: str  # "job" | "model"
    reference: str
    metrics: Metrics

    def as_dict(self) -> dict:
        return {"label": self.label, "kind": self.kind, "reference": self.reference,
                **self.metrics.as_dict()}


def _labels(refs: list[str]) -> list[str]:
    """Short distinct labels: the folder or model name, made unique when they collide."""
    names = [Path(r).name if not r.startswith("models:/") else r[len("models:/"):] for r in refs]
    return [n if names.count(n) == 1 else f"{n} ({i + 1})" for i, n in enumerate(names)]


def evaluate_jobs(out_dirs: list[str | Path], truth_path: str | Path) -> list[Evaluated]:
    """Metrics of several finished jobs against the same truth file."""
    refs = [str(o) for o in out_dirs]
    return [
        Evaluated(label, "job", ref, evaluate_job(ref, truth_path))
        for label, ref in zip(_labels(refs), refs)
    ]


def evaluate_models(
    config,
    model_refs: list[str],
    inputs: list[str | Path],
    truth_path: str | Path,
    encoding: str | None = None,
    sheet: str | None = None,
) -> list[Evaluated]:
    """Resolve the same input with each model (in memory) and score each against the truth.

    The input is ingested and standardized once; each model then scores, clusters and is
    evaluated exactly as `er dedup` would with that model and this config (the same
    `resolve_records`: the model's term-frequency tables and calibrator, the config's
    threshold).
    """
    from resolution.model.loading import resolve_model
    from resolution.pipeline import prepare_records, resolve_records

    loaded = [resolve_model(r) for r in model_refs]
    con = duckdb.connect()
    try:
        prepare_records(con, config, list(inputs), encoding, {}, lambda _s: None, sheet)
        load_truth(con, truth_path)
        results = []
        for label, ref, model in zip(_labels(model_refs), model_refs, loaded):
            resolve_records(con, config, model, {}, lambda _s: None)
            results.append(
                Evaluated(label, "model", ref, metrics_from_tables(con, "crosswalk", "truth"))
            )
        return results
    finally:
        con.close()


def log_evaluation(
    results: list[Evaluated], truth_path: str | Path, experiment: str = "er-evaluate"
) -> str:
    """Log one MLflow run per result (nested under one parent run); return the parent's id.

    Every child run carries the same metric names, so MLflow's run comparison view shows
    the results side by side.
    """
    from training.registry import configure_mlflow

    mlflow = configure_mlflow()
    mlflow.set_experiment(experiment)
    title = " vs ".join(r.label for r in results)
    with mlflow.start_run(run_name=f"evaluate {title}"[:250]) as parent:
        mlflow.log_params({"truth": str(truth_path), "compared": len(results)})
        for r in results:
            with mlflow.start_run(run_name=r.label[:250], nested=True):
                mlflow.log_params({"kind": r.kind, "reference": r.reference,
                                   "truth": str(truth_path)})
                mlflow.log_metrics({k: float(v) for k, v in r.metrics.as_dict().items()})
        if len(results) > 1:
            best = max(results, key=lambda r: r.metrics.pairwise_f1)
            mlflow.set_tag("best_pairwise_f1", best.label)
        return parent.info.run_id
