"""The `er` command line: a thin shell over the Python API.

Each command parses options, calls one function, and prints. User errors
(`ResolutionError`, a full disk, a read-only folder, ...) become one line on stderr and exit
code 2 (`resolution.cli_errors.user_errors`); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from resolution.cli_errors import user_errors

app = typer.Typer(
    name="er",
    help="Entity resolution for Chinese customer master data.\n\n"
    "Example: er demo --out demo",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console(stderr=True)


@app.callback()
def _private_files() -> None:
    """Files the engine writes hold customers' personal data: create them owner-only."""
    import os

    os.umask(0o077)

out = Console()

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="job config YAML, e.g. configs/customer_zh.yaml")
]
InputOpt = Annotated[
    list[Path],
    typer.Option("--input", "-i", help="input file (.csv, .xlsx, .parquet); repeat for several"),
]
SheetOpt = Annotated[
    str | None,
    typer.Option(
        "--sheet",
        help="the worksheet to read in every Excel input; needed when a workbook has "
        "several worksheets with data",
    ),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help="CSV encoding (utf-8, utf-8-sig, gbk, gb18030); detected if unset"),
]

WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        help="seconds to wait for another job holding the same store or output folder "
        "(default 0: refuse at once, naming the job)",
    ),
]


class _Stages:
    """Progress for long jobs: a spinner naming the running stage, and its elapsed time."""

    def __init__(self, title: str):
        self.title = title
        self.status = None
        self.current: str | None = None
        self.t0 = 0.0

    def __enter__(self):
        self.status = console.status(self.title)
        self.status.__enter__()
        return self

    def __call__(self, stage: str) -> None:
        self._done()
        self.current, self.t0 = stage, time.perf_counter()
        self.status.update(f"{self.title}: {stage} …")

    def progress(self, done: int, total: int) -> None:
        """Within the running stage: `done` of `total` parts (e.g. prediction chunks)."""
        width = 20
        bar = "█" * (width * done // max(total, 1))
        self.status.update(f"{self.title}: {self.current} [{bar:<{width}}] {done}/{total} …")

    def _done(self) -> None:
        if self.current:
            console.print(f"  ✓ {self.current} ({time.perf_counter() - self.t0:.1f}s)")

    def __exit__(self, *exc):
        if exc[0] is None:
            self._done()
        self.status.__exit__(*exc)


def _load(config: Path):
    from resolution.config import load_config

    return load_config(config), config.read_text(encoding="utf-8")


@app.command()
@user_errors
def train(
    config: ConfigOpt,
    input: InputOpt,
    name: Annotated[str, typer.Option(help="registered model name")] = "customer_zh",
    encoding: EncodingOpt = None,
    experiment: Annotated[
        str | None, typer.Option(help="MLflow experiment (default: er-NAME)")
    ] = None,
    link_type: Annotated[
        str, typer.Option(help="dedupe_only, or link_only / link_and_dedupe across source_system")
    ] = "dedupe_only",
    labels_column: Annotated[
        str | None, typer.Option(help="ground-truth entity column in the training input")
    ] = None,
    truth: Annotated[
        Path | None, typer.Option(help="ground truth file record_id,entity_id")
    ] = None,
    labels_pairs: Annotated[
        Path | None, typer.Option(help="labelled pairs file record_id_l,record_id_r,is_match")
    ] = None,
    labels_from_store: Annotated[
        Path | None,
        typer.Option(help="every label in this store: `er label add` answers and steward "
                     "decisions (what `er review export-labels` writes)"),
    ] = None,
    m_from: Annotated[
        str | None,
        typer.Option(help="estimate m from 'labels' (default with labels), 'em', or 'mixed' "
                     "(labels where enough reach a comparison, EM elsewhere; default with "
                     "--labels-from-store)"),
    ] = None,
    calibration: Annotated[
        str, typer.Option(help="calibrate on labels: isotonic, platt or none")
    ] = "isotonic",
    target_precision: Annotated[
        float | None,
        typer.Option(help="recommend the lowest threshold reaching this pairwise precision"),
    ] = None,
    charts: Annotated[bool, typer.Option(help="log Splink charts (HTML and PNG)")] = True,
    sheet: SheetOpt = None,
):
    """Train a Splink model, log it to MLflow and register it; with labels, evaluate,
    recommend a threshold and calibrate.

    Example: er train --config configs/customer_zh.yaml --input customers.csv --name customer_zh
    --truth truth.csv --target-precision 0.99

    The steward loop: er train ... --labels-from-store out/store.duckdb
    """
    import training
    from resolution.config import load_config

    cfg = load_config(config)  # a missing or invalid file is refused before any work
    with _Stages("training") as stages:
        result = training.train(
            input, config, name=name, register=True, experiment=experiment,
            encoding=encoding, on_stage=stages, link_type=link_type,
            labels_column=labels_column, truth=truth, labels_pairs=labels_pairs,
            labels_from_store=labels_from_store, m_from=m_from, calibration=None if calibration == "none" else calibration,
            target_precision=target_precision, charts=charts, sheet=sheet,
        )
    result.close()
    print_warnings(result.warnings)
    if result.meta.get("m_from") in ("em", "mixed"):  # how EM went: nothing else tells
        for line in result.key_figures:
            out.print(line, highlight=False, soft_wrap=True)
    for line in result.label_counts:
        out.print(line, highlight=False, soft_wrap=True)
    m = result.metrics
    if result.recommended_threshold is not None:
        out.print(
            f"threshold: {result.recommended_threshold:.4f} recommended "
            f"(pairwise P {m.get('pairs_precision_at_recommended', 0):.4f} "
            f"R {m.get('pairs_recall_at_recommended', 0):.4f} "
            f"F1 {m.get('pairs_f1_at_recommended', 0):.4f}; config has {cfg.thresholds.match})"
        )
    if "ece_raw" in m and "ece_calibrated" in m:
        out.print(f"calibration: ECE {m['ece_raw']:.4f} raw -> {m['ece_calibrated']:.4f} "
                  "calibrated (held-out labelled pairs)")
    if "clusters_pairwise_f1" in m:
        out.print(f"clusters: pairwise F1 {m['clusters_pairwise_f1']:.4f}, "
                  f"B-cubed F1 {m['clusters_bcubed_f1']:.4f} at threshold {cfg.thresholds.match}")
    out.print(f"run:      {result.run_id}")
    out.print(f"model:    {result.model_uri}")
    out.print(f"tracking: {result.tracking_uri}")


class Backend(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


@app.command()
@user_errors
def dedup(
    config: ConfigOpt,
    model: Annotated[
        str,
        typer.Option(help="models:/NAME@ALIAS, models:/NAME/VERSION, a run ID or settings .json"),
    ],
    input: InputOpt,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="output folder")],
    encoding: EncodingOpt = None,
    store: Annotated[
        Path | None,
        typer.Option(help="persistent store; default: config store.path, else OUT/store.duckdb"),
    ] = None,
    backend: Annotated[
        Backend,
        typer.Option(help="where pairs are scored and clustered: duckdb (this machine) or spark"),
    ] = Backend.duckdb,
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="with --backend spark: master URL (local[2], spark://host:7077, yarn); "
            "default: config resources.spark.master, else local[2]"
        ),
    ] = None,
    wait: WaitOpt = 0.0,
    sheet: SheetOpt = None,
    threshold: Annotated[
        float | None,
        typer.Option(help="pair probability that links (default: config thresholds.match)"),
    ] = None,
    use_recommended_threshold: Annotated[
        bool,
        typer.Option(help="link at the threshold the model's training recommended from labels"),
    ] = False,
):
    """Deduplicate: standardize, score pairs, cluster, write golden records and a crosswalk.

    Example: er dedup --config configs/customer_zh.yaml --model models:/customer_zh_demo@champion
    --input customers.csv --out out

    On Spark: er dedup ... --backend spark --spark-master spark://head:7077
    """
    from resolution.model.loading import resolve_model
    from resolution.pipeline import dedup as run_dedup

    cfg, _ = _load(config)
    loaded = resolve_model(model)
    with _Stages("dedup") as stages:
        summary = run_dedup(
            cfg, loaded, input, out_dir, model, encoding, stages, store_path=store,
            backend=backend.value, spark_master=spark_master, lock_wait=wait, sheet=sheet,
            threshold=threshold, use_recommended_threshold=use_recommended_threshold,
        )
    print_warnings(summary.warnings)
    print_summary(summary)


@app.command()
@user_errors
def match(
    config: ConfigOpt,
    model: Annotated[str, typer.Option(help="models:/NAME@ALIAS, models:/NAME/VERSION, run ID or .json")],
    input: InputOpt,
    store: Annotated[Path, typer.Option(help="the store a batch job created, e.g. out/store.duckdb")],
    encoding: EncodingOpt = None,
    wait: WaitOpt = 0.0,
    sheet: SheetOpt = None,
):
    """Match new records against the store: attach them to existing entities or create
    new ones, without re-running the whole batch.

    Example: er match --config configs/customer_zh.yaml --model models:/customer_zh_demo@champion
    --input new.csv --store out/store.duckdb
    """
    from resolution.incremental import match as run_match
    from resolution.model.loading import resolve_model

    cfg, _ = _load(config)
    loaded = resolve_model(model)
    with _Stages("match") as stages:
        s = run_match(cfg, loaded.settings, input, store, encoding, stages, loaded.calibration,
                      lock_wait=wait, sheet=sheet)
    print_warnings(s.warnings)
    t = Table(title=f"match {s.job_id}", show_header=False)
    for label, value in (
        ("records in", s.records_in), ("rejected", s.rejected), ("new records", s.new_records),
        ("updated records", s.updated_records), ("attached to existing entities", s.attached_to_existing),
        ("new entities", s.new_entities), ("entities merged away", s.merged_entities),
        ("entities touched", s.entities_touched), ("pairs scored", s.pairs_scored),
    ):
        t.add_row(label, f"{value:,}")
    for stage, sec in s.seconds.items():
        t.add_row(f"time: {stage}", f"{sec:.1f}s")
    out.print(t)


@app.command()
@user_errors
def profile(
    config: ConfigOpt,
    input: InputOpt,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="report folder")],
    encoding: EncodingOpt = None,
    sheet: SheetOpt = None,
):
    """Data-quality report: completeness, validity, uniqueness, duplicates, rule checks.

    Writes quality.json and quality.html to the --out folder.
    Example: er profile --config configs/customer_zh.yaml --input customers.csv --out dq
    """
    from resolution.pipeline import profile as run_profile

    cfg, _ = _load(config)
    with _Stages("profile") as stages:
        report = run_profile(cfg, input, out_dir, encoding, stages, sheet)
    print_warnings(report["warnings"])
    print_checks(report)
    out.print(f"report: {Path(out_dir) / 'quality.html'}")


def print_warnings(warnings) -> None:
    """Ingest's and training's warnings: one `warning:` line each, on stderr."""
    for w in warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)


def print_checks(report: dict) -> None:
    t = Table(title=f"data quality: {report['records']:,} records", show_header=True)
    t.add_column("check")
    t.add_column("value", justify="right")
    t.add_column("target", justify="right")
    t.add_column("result")
    for c in report["checks"]:
        t.add_row(
            c["check"], f"{c['value'] * 100:.1f}%", f"{c['op']} {c['target'] * 100:.0f}%",
            "pass" if c["passed"] else "[red]FAIL[/]",
        )
    out.print(t)


@app.command()
@user_errors
def evaluate(
    truth: Annotated[Path, typer.Option(help="CSV or Parquet with record_id,entity_id")],
    out_dir: Annotated[
        list[Path] | None,
        typer.Option("--out", "-o", help="a finished job's output folder; repeat to compare"),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(help="a model to run on --input and evaluate; repeat to compare"),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="job config (with --model)")
    ] = None,
    input: Annotated[
        list[Path] | None, typer.Option("--input", "-i", help="input file (with --model)")
    ] = None,
    encoding: EncodingOpt = None,
    sheet: SheetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    mlflow: Annotated[bool, typer.Option(help="log the evaluation to MLflow")] = True,
    experiment: Annotated[str, typer.Option(help="MLflow experiment")] = "er-evaluate",
):
    """Pairwise and B-cubed precision/recall/F1 of jobs or models against ground truth.

    Example: er evaluate --out demo/job --truth demo/data/truth.csv
    Compare: er evaluate --out jobA --out jobB --truth truth.csv
    Models:  er evaluate --model models:/customer_zh@champion --model models:/customer_zh/2
    --config configs/customer_zh.yaml --input customers.csv --truth truth.csv
    """
    from resolution.errors import InputError
    from training.evaluation import evaluate_jobs, evaluate_models, log_evaluation

    if bool(out_dir) == bool(model):
        raise InputError("give either --out (finished jobs) or --model (with --config and --input)")
    if model:
        if config is None or not input:
            raise InputError("--model needs --config and --input to run the models on")
        cfg, _ = _load(config)
        results = evaluate_models(cfg, model, input, truth, encoding, sheet)
    else:
        results = evaluate_jobs(out_dir, truth)
    run_id = log_evaluation(results, truth, experiment) if mlflow else None
    if as_json:
        if len(results) == 1:
            out.print_json(json.dumps(results[0].metrics.as_dict()))
        else:
            out.print_json(json.dumps([r.as_dict() for r in results], ensure_ascii=False))
        return
    if len(results) == 1:
        print_metrics(results[0].metrics)
    else:
        print_comparison(results)
    if run_id:
        out.print(f"logged to MLflow run {run_id} (experiment {experiment})")


def print_comparison(results) -> None:
    t = Table(title="evaluation, side by side", show_header=True)
    t.add_column("measure")
    for r in results:
        t.add_column(r.label, justify="right")
    rows = [
        ("pairwise precision", "pairwise_precision", "{:.4f}"),
        ("pairwise recall", "pairwise_recall", "{:.4f}"),
        ("pairwise F1", "pairwise_f1", "{:.4f}"),
        ("B-cubed precision", "bcubed_precision", "{:.4f}"),
        ("B-cubed recall", "bcubed_recall", "{:.4f}"),
        ("B-cubed F1", "bcubed_f1", "{:.4f}"),
        ("predicted clusters", "predicted_clusters", "{:,}"),
        ("true clusters", "true_clusters", "{:,}"),
        ("false-positive pairs", "false_positive_pairs", "{:,}"),
        ("false-negative pairs", "false_negative_pairs", "{:,}"),
        ("records", "records", "{:,}"),
    ]
    for title, key, fmt in rows:
        t.add_row(title, *(fmt.format(getattr(r.metrics, key)) for r in results))
    out.print(t)


@app.command()
@user_errors
def demo(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="demo folder")] = Path("demo"),
    records: Annotated[int, typer.Option(help="demo records to generate")] = 10_000,
    seed: Annotated[int, typer.Option(help="generator seed")] = 7,
):
    """Generate the demo data, train, deduplicate and evaluate, then print a summary.

    Example: er demo --out demo
    """
    from training.demo import run_demo

    with _Stages("demo") as stages:
        result = run_demo(out_dir, records, seed, on_stage=stages)
    print_summary(result.summary, result.metrics)
    out.print(f"outputs in {result.summary.out_dir}; model {result.model_uri}")


store_app = typer.Typer(
    help="The persistent store: steward constraints and history.\n\n"
    "Example: er store must-link --store out/store.duckdb CRM-1 ERP-7",
    no_args_is_help=True,
)
app.add_typer(store_app, name="store")
from training.cli import models_app  # noqa: E402 - `er models …` lives with the registry

app.add_typer(models_app, name="models")
from resolution.review.cli import (  # noqa: E402 - steward review app, check tokens
    label_app,
    review_app,
    tokens_app,
    users_app,
)

app.add_typer(review_app, name="review")
app.add_typer(label_app, name="label")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
StoreOpt = Annotated[Path, typer.Option("--store", help="the store, e.g. out/store.duckdb")]
WhoOpt = Annotated[str, typer.Option("--who", help="who decides (recorded in the audit)")]


@store_app.command("must-link")
@user_errors
def must_link(store: StoreOpt, record_a: str, record_b: str, who: WhoOpt = "cli",
              comment: Annotated[str | None, typer.Option()] = None):
    """Two records are the same customer; the next run keeps them together.

    Example: er store must-link --store out/store.duckdb CRM-000001 ERP-000002
    """
    from resolution.store import add_constraint

    out.print(add_constraint(store, "must_link", record_a, record_b, who, comment))


@store_app.command("cannot-link")
@user_errors
def cannot_link(store: StoreOpt, record_a: str, record_b: str, who: WhoOpt = "cli",
                comment: Annotated[str | None, typer.Option()] = None):
    """Two records are different customers; the next run keeps them apart.

    Example: er store cannot-link --store out/store.duckdb CRM-000001 CRM-000009
    """
    from resolution.store import add_constraint

    out.print(add_constraint(store, "cannot_link", record_a, record_b, who, comment))


@store_app.command("move")
@user_errors
def move(store: StoreOpt, record_id: str,
         to: Annotated[str, typer.Option("--to", help="target entity ID")], who: WhoOpt = "cli",
         comment: Annotated[str | None, typer.Option()] = None):
    """A record belongs to another entity; the next run puts it there.

    Example: er store move --store out/store.duckdb CRM-000001 --to E0A1B2C3D4E5F6A7B
    """
    from resolution.store import move_record

    out.print(move_record(store, record_id, to, who, comment))


@store_app.command("verify")
@user_errors
def store_verify(store: StoreOpt):
    """Check the store's invariants; print each breach in one line, exit 1 on any.

    Example: er store verify --store out/store.duckdb
    """
    from resolution.store import verify_store

    breaches, facts = verify_store(store)
    for b in breaches:
        out.print(f"breach: {b}", highlight=False, soft_wrap=True)
    shown = ", ".join(f"{k} {v}" for k, v in facts.items() if v is not None)
    out.print(f"{'FAILED' if breaches else 'ok'}: {len(breaches)} breach(es); {shown}",
              highlight=False, soft_wrap=True)
    if breaches:
        raise typer.Exit(1)


def _facts_line(f: dict | None) -> str:
    if not f:
        return "(no store)"
    c = f["counts"]
    last = f["jobs"][-1]["job_id"] if f["jobs"] else "none"
    return (f"{len(f['jobs'])} job(s), last {last}; records {c.get('records', 0)}, "
            f"entities {c.get('entities', 0)}, decisions {c.get('decisions', 0)}")


@store_app.command("backup")
@user_errors
def store_backup(store: StoreOpt,
                 to: Annotated[Path, typer.Option("--to", help="an empty or new folder")]):
    """A consistent copy of the store (taken while jobs or the review app may run) with
    a manifest (time, jobs, table counts and content hashes, the file's SHA-256).

    Example: er store backup --store out/store.duckdb --to backups/2026-01-31
    """
    from resolution.store import backup_store

    m = backup_store(store, to)
    out.print(f"backed up {store} to {Path(to) / m['file']} at {m['backed_up_at']}: "
              f"{_facts_line(m)}", highlight=False, soft_wrap=True)


@store_app.command("restore")
@user_errors
def store_restore(backup: Annotated[Path, typer.Argument(help="a folder `er store backup` wrote")],
                  store: StoreOpt, wait: WaitOpt = 0.0):
    """Replace the store with a backup in one step; say what was replaced (the old file
    is kept beside it as STORE.replaced-TIME). The backup is checked first against its
    manifest's checksums and by `er store verify`; any difference or breach refuses it
    and leaves the store untouched.

    Example: er store restore backups/2026-01-31 --store out/store.duckdb
    """
    from resolution.store import restore_store

    r = restore_store(backup, store, lock_wait=wait)
    out.print(f"replaced: {_facts_line(r['before'])}", highlight=False, soft_wrap=True)
    out.print(f"restored: {_facts_line(r['after'])} (backup of {r['backed_up_at']})",
              highlight=False, soft_wrap=True)
    if r["kept"]:
        out.print(f"previous store kept as {r['kept']}", highlight=False, soft_wrap=True)
    for w in r["warnings"]:
        out.print(f"warning: {w}", highlight=False, soft_wrap=True)


@store_app.command("rollback")
@user_errors
def store_rollback(
    job_id: Annotated[str, typer.Argument(help="the job to undo (summary.json's job_id)")],
    store: StoreOpt,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="say what would change; change nothing")] = False,
    wait: WaitOpt = 0.0,
):
    """Undo one job's merges, splits and golden-record changes in one transaction.

    Only the latest job still in force can be rolled back (roll back later jobs first,
    one by one). Steward decisions on entities the job did not change are kept; a
    review-app decision on an entity it changed blocks the rollback (undo it first).
    Constraints and decisions are never removed. The job's output folder is marked
    (ROLLED_BACK.json, summary.json `rolled_back`) when it still shows the job.

    Example: er store rollback 20260131T101500-1a2b3c4d --store out/store.duckdb --dry-run
    """
    from resolution.store import rollback_job

    r = rollback_job(store, job_id, dry_run=dry_run, lock_wait=wait)
    changes = "; ".join(f"{t} +{a}/-{b}" for t, (a, b) in sorted(r.tables.items()) if a or b)
    events = ", ".join(f"{k} {v}" for k, v in sorted(r.events.items())) or "none"
    head = "would roll back" if dry_run else "rolled back"
    out.print(f"{head} job {r.job_id} ({r.kind}): rows put back/taken out: {changes or 'none'}; "
              f"entity events: {events}; steward decisions since, kept: {r.kept_decisions}",
              highlight=False, soft_wrap=True)
    if dry_run:
        if r.breaches:
            out.print("the rollback would be refused: " + " | ".join(r.breaches),
                      highlight=False, soft_wrap=True)
        out.print("dry run: nothing changed", highlight=False)
    else:
        out.print(f"rollback recorded as job {r.rollback_id}; store verify: ok", highlight=False)
        if r.output_mark:
            out.print(r.output_mark, highlight=False, soft_wrap=True)


# `er check` (one record or a small file) and `er check serve` (HTTP): resolution/check.py
check_app = typer.Typer(
    help="Is this customer already in the store? The duplicate check a CRM form calls.\n\n"
    "Example: er check --store demo/store.duckdb --model models:/customer_zh_demo@champion "
    "--config configs/customer_zh.yaml --record '{\"customer_name\": \"旺拓食品\", "
    "\"mobile\": \"13766700872\"}'",
)
app.add_typer(check_app, name="check")
CheckStoreOpt = Annotated[Path | None, typer.Option("--store", help="the store to check")]
CheckModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="models:/NAME@ALIAS, models:/NAME/VERSION, run ID or .json"),
]
CheckConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="job config YAML")]


@check_app.callback(invoke_without_command=True)
@user_errors
def check(
    ctx: typer.Context,
    store: CheckStoreOpt = None,
    model: CheckModelOpt = None,
    config: CheckConfigOpt = None,
    record: Annotated[str | None, typer.Option(help="one record as a JSON object")] = None,
    input: Annotated[
        Path | None, typer.Option("--input", "-i", help="a small file of records")
    ] = None,
    encoding: EncodingOpt = None,
    sheet: SheetOpt = None,
    top_k: Annotated[int, typer.Option(help="candidate entities to show", min=1, max=20)] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
):
    """Check records against the store: the entities they most likely belong to, with
    match probabilities and the fields that matched. `er check serve` answers over HTTP."""
    from resolution.check import check_command, render_text
    from resolution.errors import InputError

    if ctx.invoked_subcommand:
        return
    if not (store and model and config):
        raise InputError("er check needs --store, --model and --config")
    results = check_command(store, model, config, record, input, encoding, top_k, sheet)
    if as_json:
        docs = [{"record": r, **res.model_dump(mode="json")} for r, res in results]
        out.print_json(json.dumps(docs[0] if record else docs, ensure_ascii=False))
    else:
        out.print("\n\n".join(render_text(res, r) for r, res in results), highlight=False)


@check_app.command("serve")
@user_errors
def check_serve(
    store: CheckStoreOpt = None,
    model: CheckModelOpt = None,
    config: CheckConfigOpt = None,
    port: Annotated[int, typer.Option(help="port")] = 8001,
    host: Annotated[str, typer.Option(help="address to bind; 0.0.0.0 exposes it")] = "127.0.0.1",
    poll: Annotated[
        float, typer.Option(help="seconds between looks at the store for revoked tokens and "
                            "new jobs", min=0.05, max=60)
    ] = 0.25,
):
    """Serve POST /check (one record as JSON, `Authorization: Bearer TOKEN` from
    `er tokens create`) for a CRM form; a new job is picked up by itself.

    Example: er check serve --store demo/store.duckdb --model models:/customer_zh_demo@champion
    --config configs/customer_zh.yaml --port 8001
    """
    from resolution.check import Watcher, load_checker, serve
    from resolution.errors import InputError

    if not (store and model and config):
        raise InputError("er check serve needs --store, --model and --config")
    checker = load_checker(store, model, config)
    watcher = Watcher(checker, poll=poll)
    if not watcher.tokens.live():
        console.print("no API tokens yet: every request is refused until you create one with "
                      f"`er tokens create --name NAME --role check --store {store}`")
    console.print(f"checking against {checker.snapshot_info()['records']:,} records; "
                  f"POST http://{host}:{port}/check")
    serve(checker, watcher, host, port)


def print_metrics(m) -> None:
    t = Table(title="evaluation", show_header=True)
    t.add_column("measure")
    t.add_column("precision", justify="right")
    t.add_column("recall", justify="right")
    t.add_column("F1", justify="right")
    t.add_row("pairwise", f"{m.pairwise_precision:.4f}", f"{m.pairwise_recall:.4f}", f"{m.pairwise_f1:.4f}")
    t.add_row("B-cubed", f"{m.bcubed_precision:.4f}", f"{m.bcubed_recall:.4f}", f"{m.bcubed_f1:.4f}")
    out.print(t)
    out.print(
        f"records {m.records:,}  predicted clusters {m.predicted_clusters:,}  true clusters "
        f"{m.true_clusters:,}  false-positive pairs {m.false_positive_pairs:,}  false-negative "
        f"pairs {m.false_negative_pairs:,}"
    )


def print_summary(s, metrics=None) -> None:
    t = Table(title=f"job {s.job_id}", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("records in", f"{s.records_in:,}")
    t.add_row("rejected", f"{s.rejected:,}")
    t.add_row("entities out", f"{s.entities:,}")
    t.add_row("candidate pairs", f"{s.candidate_pairs:,}")
    t.add_row("pairs scored (kept)", f"{s.pairs_scored:,}")
    for sk in getattr(s, "blocking_skipped", None) or []:
        t.add_row(f"blocking keys skipped ({sk['rule']} > {sk['max_block_size']:,})",
                  f"{sk['keys']:,} keys, {sk['records']:,} records, {sk['pairs']:,} pairs")
    prior = getattr(s, "prior", None)
    if prior and prior.get("rescaled"):
        t.add_row("prior λ (rescaled)", f"{prior['lambda_used']:.3g} (trained {prior['lambda_trained']:.3g} "
                  f"on {prior['trained_on_records']:,} records)")
    if getattr(s, "model_version", None):
        t.add_row("model", f"{s.model_name} version {s.model_version}")
    if getattr(s, "threshold", None) is not None:
        t.add_row("match threshold", f"{s.threshold:.4g} ({s.threshold_source})")
    t.add_row("review queue", f"{s.review_queue:,}")
    t.add_row("components split by guard", f"{s.guard_splits:,}")
    if s.standardize_cache_hits:
        t.add_row("standardized values from cache",
                  f"{s.standardize_cache_hits:,} of {s.standardized_values:,}")
    t.add_row("largest entity", f"{s.largest_entity:,} records")
    if s.duplicate_rate is not None:
        t.add_row("duplicate rate", f"{s.duplicate_rate * 100:.1f}%")
    if s.quality_passed is not None:
        t.add_row("quality checks", "pass" if s.quality_passed else "some failed (see quality.html)")
    if metrics is not None:
        t.add_row("pairwise P / R / F1", f"{metrics.pairwise_precision:.4f} / "
                  f"{metrics.pairwise_recall:.4f} / {metrics.pairwise_f1:.4f}")
        t.add_row("B-cubed P / R / F1", f"{metrics.bcubed_precision:.4f} / "
                  f"{metrics.bcubed_recall:.4f} / {metrics.bcubed_f1:.4f}")
    for stage, sec in s.seconds.items():
        t.add_row(f"time: {stage}", f"{sec:.1f}s")
    out.print(t)


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="er")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
