"""The demo job: generate the bundled demo data, train, deduplicate, evaluate.

`er demo` calls `run_demo`; it is the README's first command, so it must run on a fresh
machine with nothing but the package installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from resolution.config import DEFAULT_CONFIG, load_config
from resolution.pipeline import JobSummary, dedup
from training.api import train
from training.demo_data import write_demo
from training.evaluation import evaluate_job
from training.registry import promote


@dataclass
class DemoResult:
    summary: JobSummary
    metrics: object
    model_uri: str


def run_demo(
    out_dir: str | Path,
    records: int = 10_000,
    seed: int = 7,
    config_path: str | Path = DEFAULT_CONFIG,
    model_name: str = "customer_zh_demo",
    on_stage=None,
) -> DemoResult:
    say = on_stage or (lambda _s: None)
    out = Path(out_dir)
    say("generate demo data")
    customers, truth = write_demo(out / "data", n_records=records, seed=seed)
    config = load_config(config_path)
    trained = train(customers, Path(config_path), name=model_name, register=True,
                    on_stage=say)
    trained.close()  # registered: the job applies it as registered (as_loaded)
    # the demo's model is the one in use: `@champion` names it however often the demo ran
    # (the README's examples load models:/customer_zh_demo@champion)
    promote(model_name, str(trained.version), "champion")
    summary = dedup(
        config, trained.as_loaded(), [customers], out / "job", trained.model_uri, on_stage=say,
        store_path=out / "store.duckdb",
    )
    say("evaluate")
    metrics = evaluate_job(out / "job", truth)
    summary.seconds = {"train": trained.seconds.get("train", 0.0), **summary.seconds}
    return DemoResult(summary=summary, metrics=metrics, model_uri=trained.model_uri)
