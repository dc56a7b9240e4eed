"""The `er` command line: a thin shell over the Python API.

Each command parses options, calls one function, and prints. User errors
(`ResolutionError`) become one line on stderr and exit code 2; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from resolution.errors import ResolutionError

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
out = Console()

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="job config YAML, e.g. configs/customer_zh.yaml")
]
InputOpt = Annotated[
    list[Path],
    typer.Option("--input", "-i", help="input file (.csv, .xlsx, .parquet); repeat for several"),
]
EncodingOpt = Annotated[
    Optional[str],
    typer.Option("--encoding", help="CSV encoding (utf-8, utf-8-sig, gbk, gb18030); detected if unset"),
]


def user_errors(fn):
    """Turn a ResolutionError into one clear line and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ResolutionError as exc:
            console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
        except KeyboardInterrupt:
            console.print("interrupted; previous results are intact")
            raise typer.Exit(130)

    return wrapper


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
    experiment: Annotated[Optional[str], typer.Option(help="MLflow experiment")] = None,
):
    """Train a Splink model without labels, log it to MLflow and register it.

    Example: er train --config configs/customer_zh.yaml --input customers.csv --name customer_zh
    """
    from training.train import train as train_model

    cfg, text = _load(config)
    with _Stages("training") as stages:
        result = train_model(cfg, text, input, name, encoding, experiment, on_stage=stages)
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    out.print(f"run:      {result.run_id}")
    out.print(f"model:    {result.model_uri}")
    out.print(f"tracking: {result.tracking_uri}")


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
        Optional[Path],
        typer.Option(help="persistent store; default: config store.path, else OUT/store.duckdb"),
    ] = None,
):
    """Deduplicate: standardize, score pairs, cluster, write golden records and a crosswalk.

    Example: er dedup --config configs/customer_zh.yaml --model models:/customer_zh/1
    --input customers.csv --out out
    """
    from resolution.pipeline import dedup as run_dedup
    from training.registry import resolve_model

    cfg, _ = _load(config)
    loaded = resolve_model(model)
    with _Stages("dedup") as stages:
        summary = run_dedup(
            cfg, loaded.settings, input, out_dir, model, encoding, stages, store_path=store
        )
    print_summary(summary)


@app.command()
@user_errors
def profile(
    config: ConfigOpt,
    input: InputOpt,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="report folder")],
    encoding: EncodingOpt = None,
):
    """Data-quality report: completeness, validity, uniqueness, duplicates, rule checks.

    Writes quality.json and quality.html to the --out folder.
    Example: er profile --config configs/customer_zh.yaml --input customers.csv --out dq
    """
    from resolution.pipeline import profile as run_profile

    cfg, _ = _load(config)
    with _Stages("profile") as stages:
        report = run_profile(cfg, input, out_dir, encoding, stages)
    print_checks(report)
    out.print(f"report: {Path(out_dir) / 'quality.html'}")


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
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="a finished job's output folder")],
    truth: Annotated[Path, typer.Option(help="CSV or Parquet with record_id,entity_id")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
):
    """Pairwise and B-cubed precision/recall/F1 of a job against ground truth.

    Example: er evaluate --out demo/job --truth demo/data/truth.csv
    """
    from training.evaluate import evaluate_job

    m = evaluate_job(out_dir, truth)
    if as_json:
        out.print_json(json.dumps(m.as_dict()))
    else:
        print_metrics(m)


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
    from resolution.demo import run_demo

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
StoreOpt = Annotated[Path, typer.Option("--store", help="the store, e.g. out/store.duckdb")]
WhoOpt = Annotated[str, typer.Option("--who", help="who decides (recorded in the audit)")]


@store_app.command("must-link")
@user_errors
def must_link(store: StoreOpt, record_a: str, record_b: str, who: WhoOpt = "cli",
              comment: Annotated[Optional[str], typer.Option()] = None):
    """Two records are the same customer; the next run keeps them together.

    Example: er store must-link --store out/store.duckdb CRM-000001 ERP-000002
    """
    from resolution.store import add_constraint

    out.print(add_constraint(store, "must_link", record_a, record_b, who, comment))


@store_app.command("cannot-link")
@user_errors
def cannot_link(store: StoreOpt, record_a: str, record_b: str, who: WhoOpt = "cli",
                comment: Annotated[Optional[str], typer.Option()] = None):
    """Two records are different customers; the next run keeps them apart.

    Example: er store cannot-link --store out/store.duckdb CRM-000001 CRM-000009
    """
    from resolution.store import add_constraint

    out.print(add_constraint(store, "cannot_link", record_a, record_b, who, comment))


@store_app.command("move")
@user_errors
def move(store: StoreOpt, record_id: str,
         to: Annotated[str, typer.Option("--to", help="target entity ID")], who: WhoOpt = "cli",
         comment: Annotated[Optional[str], typer.Option()] = None):
    """A record belongs to another entity; the next run puts it there.

    Example: er store move --store out/store.duckdb CRM-000001 --to E0A1B2C3D4E5F6A7B
    """
    from resolution.store import move_record

    out.print(move_record(store, record_id, to, who, comment))


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
    t.add_row("review queue", f"{s.review_queue:,}")
    t.add_row("components split by guard", f"{s.guard_splits:,}")
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
