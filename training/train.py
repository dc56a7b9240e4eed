"""Train a Fellegi-Sunter model with Splink on DuckDB, without labels, and track it in MLflow.

Steps: ingest and standardize the training input exactly as a job would; estimate the
probability that two random records match from near-certain deterministic rules; estimate
u by random sampling; estimate m by expectation maximisation over several blocking rules
(each round leaves its own blocking columns untrained, so the rounds complement each other).
The run logs params, the Splink settings JSON and the config, and registers the model.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from resolution.config import Config
from resolution.db import scalar
from resolution.errors import ResolutionError
from training.registry import CONFIG_FILE, SETTINGS_FILE, configure_mlflow, tracking_uri
from training.settings import build_settings


@dataclass
class TrainResult:
    run_id: str
    model_name: str
    version: str
    model_uri: str
    tracking_uri: str
    settings: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def fit_model(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    table: str = "records",
    warnings: list[str] | None = None,
) -> dict:
    """Train on a standardized table in `con`; return the trained Splink settings dict.

    Rules that could not be used are described in `warnings` (when a list is given).
    """
    warnings = warnings if warnings is not None else []
    from splink import block_on

    from resolution.predict import make_linker

    t = config.model.training
    linker = make_linker(con, table, build_settings(config))
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*rule) for rule in t.deterministic_rules], recall=t.deterministic_recall
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=t.u_max_pairs, seed=t.seed)
    from splink.internals.exceptions import EMTrainingException

    trained_rounds = 0
    for rule in t.em_blocking_rules:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), estimate_without_term_frequencies=True
            )
            trained_rounds += 1
        except EMTrainingException:
            # A rule can find no pairs on a given data set (e.g. no addresses): the other
            # rounds still train; with none left, the model cannot be trained at all.
            warnings.append(f"EM rule {rule} found no record pairs in this data; skipped")
    if trained_rounds == 0:
        raise ResolutionError(
            "no EM blocking rule in model.training.em_blocking_rules found any record pairs; "
            "use rules on columns your data fills (e.g. [name_core])"
        )
    return linker.misc.save_model_to_json()


def data_fingerprint(con: duckdb.DuckDBPyConnection, table: str = "raw_records") -> dict:
    rows = scalar(con, f"SELECT count(*) FROM {table}")
    digest = scalar(
        con,
        f"SELECT bit_xor(hash(COLUMNS(*))) FROM (SELECT * EXCLUDE (_input, _row) FROM {table})",
    )
    return {"rows": int(rows), "hash": hashlib.sha1(str(digest).encode()).hexdigest()[:16]}


def train(
    config: Config,
    config_text: str,
    inputs: list[str | Path],
    name: str,
    encoding: str | None = None,
    experiment: str | None = None,
    on_stage=None,
) -> TrainResult:
    """Train and log a model; register it as NAME. `on_stage(name)` reports progress."""
    from resolution.pipeline import prepare_records

    say = on_stage or (lambda _s: None)
    seconds: dict[str, float] = {}
    con = duckdb.connect()
    try:
        prepare_records(con, config, inputs, encoding, seconds, say)
        say("train")
        t0 = time.perf_counter()
        warnings: list[str] = []
        settings = fit_model(con, config, warnings=warnings)
        seconds["train"] = time.perf_counter() - t0
        fingerprint = data_fingerprint(con)
    finally:
        con.close()

    say("log to MLflow")
    mlflow = configure_mlflow()
    from training.pyfunc import log_pyfunc_model

    mlflow.set_experiment(experiment or f"er-{name}")
    with tempfile.TemporaryDirectory(prefix="er-train-") as tmp:
        settings_path = Path(tmp) / SETTINGS_FILE
        settings_path.write_text(json.dumps(settings, ensure_ascii=False, indent=2), "utf-8")
        config_path = Path(tmp) / CONFIG_FILE
        config_path.write_text(config_text, "utf-8")
        with mlflow.start_run(run_name=name) as run:
            t = config.model.training
            mlflow.log_params(
                {
                    "model_name": name,
                    "inputs": ",".join(Path(i).name for i in inputs),
                    "comparisons": ",".join(c.name for c in config.model.comparisons),
                    "em_blocking_rules": json.dumps(t.em_blocking_rules, ensure_ascii=False),
                    "deterministic_recall": t.deterministic_recall,
                    "u_max_pairs": t.u_max_pairs,
                    "seed": t.seed,
                    "training_rows": fingerprint["rows"],
                    "training_data_hash": fingerprint["hash"],
                }
            )
            mlflow.log_metric(
                "probability_two_random_records_match",
                float(settings.get("probability_two_random_records_match", 0.0)),
            )
            for stage, s in seconds.items():
                mlflow.log_metric(f"seconds_{stage}", s)
            if warnings:
                mlflow.log_text("\n".join(warnings), "training_warnings.txt")
            mlflow.log_artifact(str(settings_path))
            mlflow.log_artifact(str(config_path))
            version = log_pyfunc_model(mlflow, settings_path, config_path, name)
            run_id = run.info.run_id
    return TrainResult(
        run_id=run_id,
        model_name=name,
        version=str(version),
        model_uri=f"models:/{name}/{version}",
        tracking_uri=tracking_uri(),
        settings=settings,
        seconds=seconds,
        warnings=warnings,
    )
