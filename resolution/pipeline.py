"""The batch dedup job: ingest → standardize → predict → cluster → survive → write.

`dedup()` is what `er dedup` calls and what a notebook can call. The work happens in an
in-memory DuckDB connection (spilling to a temp folder beside the output); the results
are written to a fresh run folder and switched into place with one rename (see
`RUNS_DIR`), so a crash leaves the previous results intact.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from resolution import crypto
from resolution.cluster import build_review_queue, cluster_records
from resolution.config import CANONICAL_FIELDS, Config
from resolution.db import quote_literal, scalar
from resolution.errors import ConfigError, ModelError, ResolutionError, writable_folder
from resolution.faults import fault_point  # crash-safety tests only (ER_FAULT_AT)
from resolution.ingest import IngestResult, check_config_columns, ingest
from resolution.locks import job_locks
from resolution.predict import cap_blocking, predict_pairs, score_within_groups
from resolution.quality import build_report, log_to_mlflow, score_records, write_report
from resolution.store import assign_stable_ids, commit_job, load_constraints
from resolution.survivorship import survive

OUTPUT_TABLES = (
    "records", "rejected", "pairs", "crosswalk", "entities", "review_queue", "cluster_splits",
)
PARQUET_TABLES = ("crosswalk", "entities", "review_queue")

Say = Callable[[str], None]


@dataclass
class JobSummary:
    job_id: str
    out_dir: str
    model: str
    records_in: int
    rejected: int
    accepted: int
    entities: int
    candidate_pairs: int
    pairs_scored: int
    review_queue: int
    largest_entity: int
    guard_splits: int = 0
    standardized_values: int = 0  # distinct values (and value tuples) standardized
    standardize_cache_hits: int = 0  # of them read from resources.standardize_cache
    record_ids_with_spaces: int = 0  # accepted IDs with surrounding spaces, kept as given
    warnings: list[str] = field(default_factory=list)  # from ingest: the CLI's warning lines
    backend: str = "duckdb"  # where pairs were scored and components found (duckdb, spark)
    encrypted: bool = False  # job.duckdb and the Parquet copies encrypted (ER_ENCRYPTION_KEY)
    seconds: dict[str, float] = field(default_factory=dict)
    store: str | None = None
    duplicate_rate: float | None = None
    quality_passed: bool | None = None
    # the MLflow run of this job's data-quality report (config quality.track_in_mlflow),
    # else None
    quality_run_id: str | None = None
    # the model as the registry has it (an alias resolved to its version) and the MLflow
    # run that trained it; None for a model that is not registered (a settings file)
    model_name: str | None = None
    model_version: str | None = None
    model_run_id: str | None = None
    # the pair probability the job linked at, and where it came from (option,
    # recommended: the model's, config: thresholds.match)
    threshold: float | None = None
    threshold_source: str | None = None
    # the model's prior λ and the one used for this input's size (model.settings.prior_for_input)
    prior: dict[str, Any] | None = None
    # per capped blocking rule (model.blocking_caps): the key values over its max_block_size
    # that generated no pairs, their records and the pairs they would have added
    blocking_skipped: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def _timed(seconds: dict[str, float], stage: str, say: Say):
    say(stage)
    t0 = time.perf_counter()
    yield
    seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - t0


def duckdb_config(config: Config, temp_directory: Path | None = None) -> dict[str, Any]:
    """DuckDB connection settings from the config's `resources` section."""
    r = config.resources
    out: dict[str, Any] = {}
    if temp_directory is not None:
        out["temp_directory"] = str(temp_directory)
    if r.memory_limit:
        out["memory_limit"] = r.memory_limit
    if r.threads:
        out["threads"] = r.threads
    return out


def check_standardize_cache(path: str | None) -> None:
    """A cache path whose folder is missing is a typo, not a cache to skip: refuse it
    before any work (a cache that exists but is unusable, e.g. locked by another job,
    only costs time and stays a warning)."""
    if not path:
        return
    p = Path(path)
    folder = p.parent
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise ConfigError(f"resources.standardize_cache: the folder {folder} {what}; "
                          f"create the folder or fix the path ({path})")
    if p.is_dir():
        raise ConfigError(f"resources.standardize_cache: {path} is a folder; give a file "
                          "in it, e.g. std_cache.duckdb")


def prepare_records(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    inputs: list[str | Path],
    encoding: str | None,
    seconds: dict[str, float],
    say: Say,
    sheet: str | None = None,
) -> IngestResult:
    """Ingest and standardize into `raw_records`, `rejected` and `records`.

    `sheet` names the worksheet to read in every Excel input."""
    from resolution.standardize import standardize_table

    check_standardize_cache(config.resources.standardize_cache)
    with _timed(seconds, "ingest", say):
        result = ingest(con, inputs, config.source, encoding, sheet,
                        fields=config.fields, origin=config.origin)
        # a column the config names that the data lacks: one error before any more work
        check_config_columns(con, config)
        fault_point("ingest")
    with _timed(seconds, "standardize", say):
        std = standardize_table(
            con, "raw_records", "records", cache=config.resources.standardize_cache,
            fields=config.fields,
        )
        score_records(con, config.quality)
    return replace(
        result, standardized_values=std["values"], standardize_cache_hits=std["cached"]
    )


def _check_model_columns(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    import re

    have = {r[0] for r in con.execute("DESCRIBE records").fetchall()}
    needed: set[str] = set()
    for comp in settings.get("comparisons", []):
        for level in comp.get("comparison_levels", []):
            needed.update(re.findall(r'(?<![\w"])"?([A-Za-z_]\w*)_[lr]"?(?!\w)', level["sql_condition"]))
    missing = sorted(c for c in needed if c not in have)
    if missing:
        raise ModelError(
            f"the model compares column(s) {', '.join(missing)} that the standardized records "
            "do not have; retrain the model with this version's config"
        )


def with_match_threshold(config: Config, match: float) -> Config:
    """The config a job runs with when it links at `match` (pairs below it are still kept
    down to `keep_pairs`, lowered to `match` when that is higher)."""
    t = config.thresholds
    if match == t.match:
        return config
    return config.model_copy(update={"thresholds": t.model_copy(
        update={"match": match, "keep_pairs": min(t.keep_pairs, match)})})


def resolve_records(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    model,
    seconds: dict[str, float],
    say: Say,
    store_path: Path | None = None,
    job_id: str = "",
    backend=None,
    threshold: float | None = None,
    use_recommended_threshold: bool = False,
) -> dict[str, Any]:
    """From `records`, create `pairs`, `clusters`, `review_queue`, `crosswalk`, `entities`.

    The one predict path: `er dedup`, `er evaluate --model`, training's cluster metrics
    and the pyfunc model all call this with the model as a `LoadedModel` (a settings dict
    is a model without calibrator or term-frequency tables), so each applies the same
    term-frequency tables (the training records', `resolution.predict`), the same
    calibrator once, the same prior rescaling and the same threshold.

    The match threshold is `threshold`, the model's recommended one with
    `use_recommended_threshold`, else the config's (`LoadedModel.match_threshold`); the
    result's `threshold` and `threshold_source` say which. The model's prior λ is rescaled
    to this input's size (`prior_for_input`); the result's `prior` says which λ was used.

    With a `backend` (resolution.spark_backend.SparkBackend), scoring and connected
    components run there; everything else is the same code.

    With a store, its steward constraints apply and entity IDs follow the store's. With a
    calibrator (a model trained on labels), pair probabilities are calibrated before
    clustering; the model's own score stays in `pairs.raw_match_probability`. A model
    trained for `link_only` scores only pairs across source systems.
    """
    from resolution.model.calibration import apply_sql
    from resolution.model.loading import as_loaded
    from resolution.model.settings import prior_for_input, training_table

    model = as_loaded(model)
    settings = model.settings
    match, threshold_source = model.match_threshold(
        config.thresholds.match, threshold, use_recommended_threshold)
    config = with_match_threshold(config, match)
    _check_model_columns(con, settings)
    settings, prior = prior_for_input(
        settings, model.trained_on_records, scalar(con, "SELECT count(*) FROM records"))
    if store_path is not None:
        load_constraints(con, store_path)
    link_type = settings.get("link_type", "dedupe_only")
    table = training_table(con, "records", link_type)
    with _timed(seconds, "predict", say):
        blocking = cap_blocking(con, table, config.model.blocking_rules,
                                config.model.block_size_caps())
        common = dict(
            blocking_rules=blocking.rules,
            keep_threshold=config.thresholds.keep_pairs,
            max_comparisons=config.model.max_comparisons,
            table=blocking.table,
            across_sources_only=link_type == "link_only",
        )
        if backend is not None:
            pr = backend.predict_pairs(con, settings, **common)
        else:
            pr = predict_pairs(
                con, settings, **common, chunk_pairs=config.resources.predict_chunk_pairs,
                on_chunk=getattr(say, "progress", None),  # the CLI's progress bar
                tf_tables=model.tf_tables,
            )
        calibrator = model.calibrator
        if calibrator is not None:
            apply_sql(con, calibrator)
        fault_point("predict")
    with _timed(seconds, "cluster", say):
        clustered = cluster_records(
            con, config.thresholds.match, config.clustering,
            components=backend.connected_components if backend is not None else None,
            score_within=lambda c, groups: score_within_groups(
                c, settings, groups, table, across_sources_only=link_type == "link_only",
                tf_tables=model.tf_tables),
        )
        if store_path is not None:
            assign_stable_ids(con, store_path, job_id)
        n_review = build_review_queue(
            con, config.thresholds.review, config.clustering.max_cluster_size,
            config.review.budget, config.thresholds.keep_pairs,
        )
        con.execute(
            """
            CREATE OR REPLACE TABLE crosswalk AS
            SELECT r.record_id, r.source_system, c.entity_id, c.membership_confidence
            FROM records r JOIN clusters c USING (record_id)
            ORDER BY c.entity_id, r.record_id
            """
        )
    with _timed(seconds, "survive", say):
        survive(con, config.survivorship)
    return {
        "candidate_pairs": pr.candidate_pairs,
        "pairs_scored": pr.pairs_kept,
        "entities": clustered.entities,
        "guard_splits": clustered.split_components,
        "review_queue": n_review,
        "largest_entity": scalar(con, "SELECT coalesce(max(cluster_size), 0) FROM clusters"),
        "prior": prior,
        "blocking_skipped": blocking.skipped,
        "threshold": match,
        "threshold_source": threshold_source,
    }


# Where a job's outputs live. Each job writes OUT/.runs/JOB_ID/ completely, then one
# rename switches the symlink OUT/current to it. The documented paths (OUT/job.duckdb,
# OUT/summary.json, ...) are fixed symlinks to current/NAME that never change, so the
# switch of `current` is the only step that changes what they show: a reader, a crash or
# a SIGKILL sees all of the previous job's outputs or all of the new job's, never a mix.
RUNS_DIR = ".runs"
CURRENT = "current"
OUTPUT_FILES = tuple(f"{t}.parquet" for t in PARQUET_TABLES) + (
    "quality.json", "quality.html", "job.duckdb", "summary.json",
)


def _symlink_over(target: str, link: Path) -> None:
    """Make `link` a symlink to `target` in one step (a new link renamed over the old)."""
    tmp = link.with_name(f".{link.name}.{uuid.uuid4().hex[:8]}.lnk")
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _switch_current(out: Path, run: Path) -> None:
    cur = out / CURRENT
    if cur.exists() and not cur.is_symlink():  # a folder copied without its links
        os.rename(cur, out / RUNS_DIR / f"copied-{uuid.uuid4().hex[:8]}")
    _symlink_over(f"{RUNS_DIR}/{run.name}", cur)


def _link_names(out: Path) -> None:
    for name in OUTPUT_FILES:
        link = out / name
        if link.is_symlink() and os.readlink(link) == f"{CURRENT}/{name}":
            continue
        _symlink_over(f"{CURRENT}/{name}", link)


def _adopt_legacy(out: Path) -> None:
    """Outputs an older version wrote as plain files become a run of their own (hard
    links, same content) before the names turn into links, so every name keeps showing
    the same job's file at every moment of the change."""
    plain = [n for n in OUTPUT_FILES if (out / n).is_file() and not (out / n).is_symlink()]
    if not plain:
        return
    run = out / RUNS_DIR / f"legacy-{uuid.uuid4().hex[:8]}"
    run.mkdir(mode=0o700)
    # every name that shows a file now keeps showing it (links still resolving included)
    for name in [n for n in OUTPUT_FILES if (out / n).is_file()]:
        src = (out / name).resolve()
        try:
            os.link(src, run / name)
        except OSError:
            shutil.copy2(src, run / name)
    _switch_current(out, run)
    for name in plain:
        _symlink_over(f"{CURRENT}/{name}", out / name)


def _write_outputs(
    con: duckdb.DuckDBPyConnection, out: Path, summary: JobSummary, report: dict,
    before_moves: Callable[[], None] | None = None,
) -> None:
    """Write every output into OUT/.runs/JOB_ID, then switch OUT/current to it with one
    rename (see RUNS_DIR). `before_moves` (the store commit) runs once the run folder is
    complete and before the switch; the previous run is removed after it."""
    runs = out / RUNS_DIR
    runs.mkdir(mode=0o700, exist_ok=True)
    run = runs / summary.job_id
    run.mkdir(mode=0o700)
    job_path = run / "job.duckdb"
    crypto.attach(con, job_path, "job_out")  # encrypted when a key is set
    for t in OUTPUT_TABLES:
        con.execute(f"CREATE TABLE job_out.{t} AS SELECT * FROM {t}")
    # the job the tables belong to, so a reader can check them against summary.json
    con.execute("CREATE TABLE job_out.job AS SELECT ? AS job_id, ? AS model",
                [summary.job_id, summary.model])
    con.execute("DETACH job_out")
    # with a key, Parquet modular encryption (see resolution.crypto for reading them back)
    enc = (f", ENCRYPTION_CONFIG {{footer_key: {quote_literal(crypto.PARQUET_KEY_NAME)}}}"
           if crypto.enabled() else "")
    for t in PARQUET_TABLES:
        con.execute(
            f"COPY {t} TO {quote_literal(str(run / (t + '.parquet')))} (FORMAT parquet{enc})"
        )
    write_report(report, run)
    (run / "summary.json").write_text(
        json.dumps(summary.as_dict(), ensure_ascii=False, indent=2), "utf-8"
    )
    for name in OUTPUT_FILES:
        os.chmod(run / name, 0o600)  # personal data: owner only
    if before_moves is not None:  # crash safety: the store commits before the switch
        before_moves()
    fault_point("outputs")
    _adopt_legacy(out)
    _switch_current(out, run)
    fault_point("switched")
    _link_names(out)
    for old in runs.iterdir():
        if old != run:
            shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(out: Path) -> None:
    """A job killed mid-way leaves its unfinished run, staging and spill folders (with
    personal data) behind; the next job in the same folder removes them before it starts
    (everything in OUT/.runs but the run OUT/current points to)."""
    for leftover in list(out.glob(".staging-*")) + list(out.glob(".tmp-*")):
        shutil.rmtree(leftover, ignore_errors=True)
    for link in out.glob(".*.lnk"):
        link.unlink(missing_ok=True)
    runs = out / RUNS_DIR
    if runs.is_dir():
        cur = out / CURRENT
        keep = (runs / Path(os.readlink(cur)).name) if cur.is_symlink() else None
        for run in runs.iterdir():
            if run != keep:
                shutil.rmtree(run, ignore_errors=True)


def dedup(
    config: Config,
    model,
    inputs: list[str | Path],
    out_dir: str | Path,
    model_reference: str = "",
    encoding: str | None = None,
    on_stage: Say | None = None,
    store_path: str | Path | None = None,
    backend: str = "duckdb",
    spark_master: str | None = None,
    lock_wait: float = 0.0,
    sheet: str | None = None,
    threshold: float | None = None,
    use_recommended_threshold: bool = False,
) -> JobSummary:
    """Run the whole batch job, write its outputs to `out_dir` and update the store
    (`store_path`, else the config's `store.path`, else `out_dir/store.duckdb`).

    `model` is a `LoadedModel` (or a Splink settings dict); `model_reference` is how the
    job names it (default: the model's own reference). The match threshold is
    `threshold`, the model's recommended one with `use_recommended_threshold`, else the
    config's (see `resolve_records`); the summary records it with the model's name,
    version and training run.

    `backend="spark"` scores pairs and finds components with Splink on Spark
    (`spark_master`, else the config's `resources.spark.master`, else local[2]).

    Another job on the same output folder or store makes this one wait up to `lock_wait`
    seconds, then refuse (`resolution.locks`)."""
    from resolution.model.loading import as_loaded

    say = on_stage or (lambda _s: None)
    crypto.require()  # with a key that cannot be used: refuse before writing any file
    model = as_loaded(model)
    settings = model.settings
    # a bad --threshold, or a recommended one the model lacks, fails before any work
    model.match_threshold(config.thresholds.match, threshold, use_recommended_threshold)
    if backend == "spark" and crypto.enabled():
        raise ResolutionError(
            f"--backend spark writes its working files unencrypted; unset {crypto.KEY_ENV} "
            "or use the default backend (duckdb)"
        )
    # every folder the job writes to, proven writable before any work (a file given as
    # --out, a read-only disk): otherwise the job would fail at its last step
    out = writable_folder(out_dir, "output folder")
    store = Path(store_path or config.store.path or out / "store.duckdb")
    writable_folder(store.parent, "the store's folder")
    if config.resources.temp_directory:
        writable_folder(config.resources.temp_directory, "resources.temp_directory")
    job_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    # one job per output folder and per store, for the job's whole life (resolution.locks)
    with job_locks(job_id, "dedup", store=store, out=out, wait=lock_wait, say=say):
        _remove_leftovers(out)
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        seconds: dict[str, float] = {}
        tmp = Path(config.resources.temp_directory or out) / f".tmp-{job_id}"
        engine = None
        if backend == "spark":  # first, so a missing pyspark or Java fails before any work
            from resolution.spark_backend import SparkBackend

            with _timed(seconds, "spark", say):
                engine = SparkBackend(config.resources.spark, tmp / "spark", spark_master)
        con = crypto.connect(duckdb_config(config, tmp))
        try:
            ing = prepare_records(con, config, inputs, encoding, seconds, say, sheet)
            counts = resolve_records(
                con, config, model, seconds, say, store, job_id, backend=engine,
                threshold=threshold, use_recommended_threshold=use_recommended_threshold,
            )
            summary = JobSummary(
                job_id=job_id,
                out_dir=str(out.resolve()),  # absolute: rollback finds it from anywhere
                model=model_reference or model.reference,
                model_name=model.name,
                model_version=model.version,
                model_run_id=model.run_id,
                records_in=ing.rows_in,
                rejected=ing.rejected,
                accepted=ing.accepted,
                standardized_values=ing.standardized_values,
                standardize_cache_hits=ing.standardize_cache_hits,
                record_ids_with_spaces=ing.record_ids_with_spaces,
                warnings=list(ing.warnings),
                seconds=seconds,
                store=str(store),
                backend=backend,
                encrypted=crypto.enabled(),
                **counts,
            )
            with _timed(seconds, "report", say):
                report = build_report(con, config.quality, ing.rejected, entities_table="clusters")
                summary.quality_passed = report["passed"]
                summary.duplicate_rate = report["duplicate_rate"]
                if config.quality.track_in_mlflow:
                    # before the outputs are written, so summary.json and the store's job
                    # row carry the run's ID
                    summary.quality_run_id = log_to_mlflow(
                        report, run_name=f"dedup {job_id}")
            with _timed(seconds, "write", say):
                used = {**settings, "probability_two_random_records_match":
                        summary.prior["lambda_used"]} if summary.prior else settings
                _write_outputs(con, out, summary, report, before_moves=lambda: commit_job(
                    con, store, job_id,
                    {**summary.as_dict(), "started_at": started, "inputs": [str(i) for i in inputs]},
                    settings=used,  # the λ this job used (model.settings.prior_for_input)
                    # the threshold this job linked at (--threshold, the model's)
                    config=with_match_threshold(config, counts["threshold"]).model_dump(
                        mode="json"),
                ))
            return summary
        finally:
            con.close()
            if engine is not None:
                engine.close()
            shutil.rmtree(tmp, ignore_errors=True)


def profile(
    config: Config,
    inputs: list[str | Path],
    out_dir: str | Path,
    encoding: str | None = None,
    on_stage: Say | None = None,
    sheet: str | None = None,
) -> dict:
    """Standardize and validate the inputs and write the data-quality report to `out_dir`.

    The report's `warnings` are ingest's (e.g. record IDs with surrounding spaces)."""
    say = on_stage or (lambda _s: None)
    seconds: dict[str, float] = {}
    crypto.require()  # with a key that cannot be used: refuse before writing any file
    writable_folder(out_dir, "report folder")  # before any work, not at the end
    con = crypto.connect()
    try:
        ing = prepare_records(con, config, inputs, encoding, seconds, say, sheet)
        with _timed(seconds, "report", say):
            report = build_report(con, config.quality, ing.rejected)
            report["warnings"] = list(ing.warnings)
        write_report(report, Path(out_dir))
        if config.quality.track_in_mlflow:
            report["mlflow_run_id"] = log_to_mlflow(report, run_name="profile")
        return report
    finally:
        con.close()


def resolve_frame(frame, config: Config, model, threshold: float | None = None,
                  use_recommended_threshold: bool = False):
    """Resolve a pandas DataFrame of records in memory; return the crosswalk as a DataFrame.

    The pyfunc model's `predict` calls this: same ingest rules, standardization, model
    (a `LoadedModel`: its term-frequency tables and calibrator) and threshold choice as
    the batch job (`resolve_records`), without writing files.
    """
    with crypto.scratch_dir("er-frame-") as tmp:
        path = Path(tmp) / "records.parquet"
        frame = frame.copy()
        for col in frame.columns:
            frame[col] = frame[col].astype("string")
        frame.to_parquet(path, index=False)
        con = duckdb.connect()
        try:
            seconds: dict[str, float] = {}
            prepare_records(con, config, [path], None, seconds, lambda _s: None)
            resolve_records(
                con, config, model, seconds, lambda _s: None, threshold=threshold,
                use_recommended_threshold=use_recommended_threshold,
            )
            return con.sql(
                "SELECT c.record_id, c.entity_id, c.membership_confidence, c.cluster_confidence "
                "FROM clusters c ORDER BY c.entity_id, c.record_id"
            ).df()
        finally:
            con.close()


__all__ = ["dedup", "resolve_frame", "JobSummary", "CANONICAL_FIELDS"]
