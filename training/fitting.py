"""Fit a Fellegi-Sunter model with Splink on DuckDB, evaluate it on labels, log it to MLflow.

The public entry point is `training.train` (`training.api`); this module holds the steps:
`run` (ingest, fit, evaluate: a `Session` whose DuckDB connection stays open for Splink's
charts) and `log_run` (an MLflow run and a registered model).

Without labels: estimate the probability that two random records match (λ) from
near-certain deterministic rules; estimate u by random sampling; estimate m by
expectation maximisation over several blocking rules (each round leaves its own blocking
columns untrained, so the rounds complement each other).

With labels (`training.labels`): m is estimated from the labelled matching pairs
(Splink `estimate_m_from_pairwise_labels`) unless `m_from="em"`; with cluster labels λ
is their exact share of matching pairs. The trained model is then evaluated on the
labels (Splink's accuracy analysis: precision-recall curve, threshold sweep), a match
threshold is recommended (maximum F1, or the lowest meeting a target precision), the
match probability is calibrated (`training.calibration`) and, for cluster labels, the
clustered result is scored with pairwise and B-cubed metrics.

Every logged run holds: params (config summary, data fingerprint, code version), the config and
Splink settings JSON, diagnostics (λ, m/u per level, EM sessions), charts (HTML + PNG),
evaluation metrics and tables when labels exist, and the registered pyfunc model.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from resolution import crypto
from resolution.config import Config
from resolution.db import scalar
from resolution.errors import InputError, ResolutionError
from resolution.model.loading import TF_DIR, LoadedModel, write_tf_tables
from resolution.model.settings import build_settings, condition_on_parties, training_table
from resolution.predict import term_frequency_tables
from training.constraints import constrain, release_priors
from training.diagnostics import key_figures, training_health
from training.registry import CONFIG_FILE, SETTINGS_FILE, configure_mlflow, tracking_uri

META_FILE = "training.json"
# an EM round on fewer blocked pairs cannot estimate m (a handful of pairs that agree on
# everything drive λ to exactly 1 and Splink fails on `cast(inf as float8)`); rounds below
# this are skipped, and with none left training stops with the counts
MIN_EM_PAIRS = 50


@dataclass
class Fitted:
    """A trained linker and what training found out."""

    linker: Any
    settings: dict[str, Any]
    table: str
    m_from: str
    lambda_from: str
    em_sessions: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records: int = 0  # records λ was estimated on (`prior_for_input` rescales from it)
    u_pairs: float = 0.0  # about how many random pairs u was estimated on
    # training.diagnostics.training_health: its messages are also in `warnings`
    health: list[dict[str, Any]] = field(default_factory=list)


def _label_pairs_for_splink(con: duckdb.DuckDBPyConnection, table: str, link: bool) -> str:
    """`label_pairs` in Splink's labels format, matches only (for m estimation)."""
    if link:
        con.execute(
            f"""
            CREATE OR REPLACE TABLE _splink_m_labels AS
            SELECT l.source_system AS source_dataset_l, p.record_id_l,
                   r.source_system AS source_dataset_r, p.record_id_r,
                   1.0 AS clerical_match_score
            FROM label_pairs p JOIN {table} l ON l.record_id = p.record_id_l
                               JOIN {table} r ON r.record_id = p.record_id_r
            WHERE p.is_match = 1
            """
        )
    else:
        con.execute(
            "CREATE OR REPLACE TABLE _splink_m_labels AS SELECT record_id_l, record_id_r, "
            "1.0 AS clerical_match_score FROM label_pairs WHERE is_match = 1"
        )
    return "_splink_m_labels"


def fit(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    table: str = "records",
    *,
    link_type: str = "dedupe_only",
    labels=None,
    m_from: str | None = None,
) -> Fitted:
    """Train on a standardized table in `con`; see the module docstring for the steps."""
    from splink import block_on
    from splink.internals.exceptions import EMTrainingException, SplinkException

    from resolution.predict import make_linker
    from training.diagnostics import em_sessions

    warnings: list[str] = []
    m_from = m_from or ("labels" if labels is not None else "em")
    if m_from not in ("em", "labels"):
        raise InputError(f"m_from must be 'em' or 'labels', not '{m_from}'")
    if m_from == "labels" and labels is None:
        raise InputError("m from labels needs labels (--labels-column, --truth or --labels-pairs)")
    t = config.model.training
    ttable = training_table(con, table, link_type)
    fit_table = ttable
    if labels is None and t.max_records:
        n_all = scalar(con, f"SELECT count(*) FROM {ttable}")
        if n_all > t.max_records:
            fit_table = "_training_sample"
            con.execute(
                f"CREATE OR REPLACE TABLE {fit_table} AS SELECT * FROM {ttable} "
                f"USING SAMPLE reservoir({int(t.max_records)} ROWS) REPEATABLE ({int(t.seed)})"
            )
            warnings.append(
                f"trained on a random sample of {t.max_records:,} of {n_all:,} records "
                "(model.training.max_records)"
            )
    em_pairs = {}
    if m_from == "em":
        em_pairs = {tuple(r): blocked_pairs(con, fit_table, r, link_type)
                    for r in t.em_blocking_rules}
        if em_pairs and all(n < MIN_EM_PAIRS for n in em_pairs.values()):
            n_fit = scalar(con, f"SELECT count(*) FROM {fit_table}")
            found = ", ".join(f"{n:,} pairs under {list(r)}" for r, n in em_pairs.items())
            raise InputError(
                f"too few record pairs to train on: the {n_fit:,} records give {found} "
                f"(model.training.em_blocking_rules), and EM needs at least {MIN_EM_PAIRS} "
                "for one rule; train on more records (a few thousand, with duplicates among "
                "them), use rules on columns your data fills, or estimate m from labels "
                "(--truth, --labels-column or --labels-pairs)"
            )
    # u on random pairs without model.parties' conditioning (see condition_on_parties)
    untrained = {**build_settings(config, link_type, parties=False),
                 "max_iterations": t.em_max_iterations, "em_convergence": t.em_convergence}
    if m_from == "labels":  # labels may overturn the domain priors EM may not
        untrained = release_priors(untrained)
    linker = make_linker(con, fit_table, untrained)

    lambda_from = "deterministic rules"
    if labels is not None and labels.kind == "clusters" and link_type == "dedupe_only":
        # Cluster labels give λ exactly: matching pairs over all pairs.
        n = scalar(con, f"SELECT count(*) FROM {ttable}")
        true_pairs = scalar(
            con, "SELECT coalesce(sum(c * (c - 1) // 2), 0) FROM "
                 "(SELECT count(*) AS c FROM truth GROUP BY entity_id)"
        )
        n_lab = scalar(con, "SELECT count(*) FROM truth")
        if n_lab == n and true_pairs > 0:
            lam = float(true_pairs) / (n * (n - 1) / 2)
            linker._settings_obj._probability_two_random_records_match = lam
            lambda_from = "labels"
    if lambda_from != "labels":
        linker.training.estimate_probability_two_random_records_match(
            [block_on(*rule) for rule in t.deterministic_rules], recall=t.deterministic_recall
        )
    linker.training.estimate_u_using_random_sampling(max_pairs=t.u_max_pairs, seed=t.seed)
    n_fit = scalar(con, f"SELECT count(*) FROM {fit_table}")
    u_pairs = min(float(t.u_max_pairs), n_fit * (n_fit - 1) / 2)
    unseen = fill_unseen_u(linker, u_pairs)
    if unseen:
        warnings.append(
            "no randomly sampled pair fell in level(s) " + ", ".join(unseen) + "; their u "
            "was set to half a sampled pair"
        )
    if config.model.parties is not None:  # m (EM or labels) on the conditioned comparisons
        linker = make_linker(con, fit_table, condition_on_parties(
            linker.misc.save_model_to_json(), config))

    if m_from == "labels":
        name = _label_pairs_for_splink(con, ttable, link_type != "dedupe_only")
        linker.training.estimate_m_from_pairwise_labels(name)
    else:
        trained_rounds = 0
        # Splink estimates a round's blocked pairs on a probe of records (both sides) to
        # decide whether to sample; probe at least ~50k records so small data is not
        # estimated at zero pairs
        probe = min(1.0, max(0.01, 50_000 / max(n_fit, 1)))
        for rule in t.em_blocking_rules:
            lam = linker._settings_obj._probability_two_random_records_match
            if em_pairs.get(tuple(rule), MIN_EM_PAIRS) < MIN_EM_PAIRS:
                warnings.append(
                    f"EM rule {rule} found only {em_pairs[tuple(rule)]} record pairs in this "
                    f"data (at least {MIN_EM_PAIRS} are needed); skipped"
                )
                continue
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    block_on(*rule), estimate_without_term_frequencies=True,
                    max_pairs=t.em_max_pairs, record_sample_proportion=probe,
                )
                trained_rounds += 1
            except EMTrainingException:
                # A rule can find no pairs on a given data set (e.g. no addresses): the
                # other rounds still train; with none left, the model cannot be trained.
                warnings.append(f"EM rule {rule} found no record pairs in this data; skipped")
            except SplinkException as exc:
                # every blocked pair scored a certain match: λ reached 1, its log-odds inf
                if "inf as float8" not in str(exc):
                    raise
                linker._settings_obj._probability_two_random_records_match = lam
                warnings.append(f"EM rule {rule} scored every pair it found as a match "
                                "(too few or too similar pairs to estimate from); skipped")
            except ValueError as exc:
                # Splink refuses an m or u that underflows (a level EM drives to zero);
                # the round's estimates are discarded before they reach the model.
                if "below the minimum allowed" not in str(exc):
                    raise
                # Splink 5 leaves the session's blocking-adjusted λ in the model when a
                # round fails this way; put the model's own λ back.
                linker._settings_obj._probability_two_random_records_match = lam
                warnings.append(
                    f"EM rule {rule} did not converge (a parameter underflowed: "
                    f"{str(exc).splitlines()[0][:120]}); skipped"
                )
        if trained_rounds == 0:
            raise ResolutionError(
                "no EM blocking rule in model.training.em_blocking_rules found any record "
                "pairs; use rules on columns your data fills (e.g. [name_core])"
            )
    settings = linker.misc.save_model_to_json()
    sessions = em_sessions(linker)  # before the linker is rebuilt from adjusted settings
    if m_from == "labels":
        n_matches = scalar(con, "SELECT count(*) FROM label_pairs WHERE is_match = 1")
        filled = fill_unseen_m(settings, n_matches)
        if filled:
            warnings.append(
                "no labelled match fell in level(s) " + ", ".join(filled) + "; their m was "
                f"set to {0.5 / (n_matches + 1):.2g} (half a pair) instead of Splink's default"
            )
    learned = settings  # what EM (or the labels) gave, which the health checks judge
    # levels in the order of their meaning, no weight from a filled-in u (training.constraints)
    settings, adjusted = constrain(settings, set(unseen))
    if adjusted:
        warnings += [a.sentence() for a in adjusted]
    if adjusted or (m_from == "labels" and filled):
        linker = make_linker(con, ttable, settings)
    # a round that did not converge, a level never trained, an implausible m: said out loud
    health = training_health(learned, sessions)
    warnings += [h["message"] for h in health]
    return Fitted(
        linker=linker,
        settings=settings,
        table=ttable,
        m_from=m_from,
        lambda_from=lambda_from,
        em_sessions=sessions,
        warnings=warnings,
        records=int(n if lambda_from == "labels" else n_fit),
        u_pairs=u_pairs,
        health=health,
    )


def blocked_pairs(con: duckdb.DuckDBPyConnection, table: str, rule: list[str],
                  link_type: str) -> int:
    """How many record pairs the blocking rule (equal, non-null `rule` columns) yields:
    pairs across sources only for link_only."""
    keys = ", ".join(rule)
    filled = " AND ".join(f"({c}) IS NOT NULL" for c in rule)
    if link_type == "link_only":
        return int(scalar(con, f"""
            SELECT coalesce(sum((c * c - c2) // 2), 0) FROM (
                SELECT sum(n) AS c, sum(n * n) AS c2 FROM (
                    SELECT {keys}, count(*) AS n FROM {table} WHERE {filled}
                    GROUP BY {keys}, source_dataset)
                GROUP BY {keys})"""))
    return int(scalar(con, f"""
        SELECT coalesce(sum(c * (c - 1) // 2), 0) FROM (
            SELECT count(*) AS c FROM {table} WHERE {filled} GROUP BY {keys})"""))


def fill_unseen_u(linker: Any, n_pairs: float) -> list[str]:
    """Give levels that no randomly sampled pair reached a u of half a sampled pair.

    A rare level (a mobile typed into the phone field of the other record) can miss the
    random sample on small data; Splink would then leave its u unset and the level would
    carry no weight, or fail a check downstream. Returns the `comparison: level` labels.
    """
    eps = 0.5 / (max(n_pairs, 1.0) + 1.0)
    filled = []
    for comp in linker._settings_obj.comparisons:
        for lv in comp.comparison_levels:
            if lv.is_null_level or lv._u_is_trained:  # Splink marks it "level not observed"
                continue
            lv.u_probability = eps
            filled.append(f"{comp.output_column_name}: {lv.label_for_charts}")
    return filled


def fill_unseen_m(settings: dict, n_matches: int) -> list[str]:
    """Give levels that no labelled match reached a small m (half a pair), renormalised.

    Estimating m from labels leaves such levels untrained, and Splink would then score
    them with a default m, so e.g. two different valid credit codes would not count
    against a match. Returns the `comparison: level` labels that were filled.
    """
    eps = 0.5 / (n_matches + 1)
    filled = []
    for comp in settings.get("comparisons", []):
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        missing = [lv for lv in levels if lv.get("m_probability") is None]
        if not missing:
            continue
        for lv in missing:
            lv["m_probability"] = eps
            filled.append(f"{comp['output_column_name']}: {lv.get('label_for_charts', '?')}")
        total = sum(lv["m_probability"] for lv in levels)
        for lv in levels:
            lv["m_probability"] = lv["m_probability"] / total
    return filled


def fit_model(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    table: str = "records",
    warnings: list[str] | None = None,
    link_type: str = "dedupe_only",
) -> dict:
    """Train without labels; return the trained Splink settings dict.

    Rules that could not be used are described in `warnings` (when a list is given).
    """
    fitted = fit(con, config, table, link_type=link_type)
    if warnings is not None:
        warnings.extend(fitted.warnings)
    return fitted.settings


def data_fingerprint(con: duckdb.DuckDBPyConnection, table: str = "raw_records") -> dict:
    """Rows and an order-independent content hash of the accepted training records."""
    rows = scalar(con, f"SELECT count(*) FROM {table}")
    digest = scalar(
        con,
        f"SELECT bit_xor(hash(COLUMNS(*))) FROM (SELECT * EXCLUDE (_input, _row) FROM {table})",
    )
    return {"rows": int(rows), "hash": hashlib.sha1(str(digest).encode()).hexdigest()[:16]}


def code_version() -> dict[str, str]:
    """The git commit of the source tree when there is one, else the package version."""
    root = Path(__file__).resolve().parents[1]
    info: dict[str, str] = {}
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        info["git_commit"] = commit
        info["code_version"] = commit[:12] + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    if "code_version" not in info:
        from importlib.metadata import PackageNotFoundError, version

        try:
            info["code_version"] = version("resolution")
        except PackageNotFoundError:
            info["code_version"] = "unknown"
    return info


# --------------------------------------------------------------------------- evaluation


@dataclass
class LabelEvaluation:
    metrics: dict[str, float]
    recommended_threshold: float | None
    threshold_rule: str
    sweep: Any  # pandas DataFrame: Splink's truth-space table
    calibration: Any = None  # training.calibration.Calibrator
    reliability: dict[str, Any] = field(default_factory=dict)
    cluster_metrics: dict[str, float] = field(default_factory=dict)


def recommend_threshold(sweep, target_precision: float | None = None) -> tuple[float | None, str]:
    """Maximum-F1 match probability, or the lowest one whose precision meets the target."""
    rows = sweep[(sweep["tp"] + sweep["fp"]) > 0].sort_values("match_probability")
    if rows.empty:
        return None, "no labelled pair was predicted a match at any threshold"
    if target_precision is not None:
        ok = rows[rows["precision"] >= target_precision]
        if not ok.empty:
            r = ok.iloc[0]
            return float(r["match_probability"]), (
                f"lowest threshold with precision >= {target_precision:g}"
            )
        rule = f"no threshold reaches precision {target_precision:g}; maximum F1 instead"
    else:
        rule = "maximum F1"
    r = rows.loc[rows["f1"].idxmax()]
    return float(r["match_probability"]), rule


def _scored_pairs(con, fitted: Fitted, config: Config, link: bool) -> str:
    """Score every candidate pair from the config's blocking rules (keep all scores)."""
    from resolution.model.settings import blocking_rule_sql
    from resolution.predict import count_candidate_pairs

    total = sum(n for _, n in count_candidate_pairs(con, config.model.blocking_rules))
    if total > config.model.max_comparisons:
        raise ResolutionError(
            f"blocking would score up to {total:,} pairs on the training data (limit "
            f"{config.model.max_comparisons:,.0f}); tighten model.blocking_rules"
        )
    settings = {
        **fitted.settings,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": blocking_rule_sql(r)} for r in config.model.blocking_rules
        ],
    }
    from resolution.predict import make_linker

    scorer = make_linker(con, fitted.table, settings)
    df = scorer.inference.predict()
    con.execute(
        f"CREATE OR REPLACE TABLE _train_scored AS SELECT record_id_l, record_id_r, "
        f"match_weight, match_probability FROM {df.physical_name}"
    )
    fitted.scorer = scorer  # type: ignore[attr-defined]
    fitted.predictions = df  # type: ignore[attr-defined]
    return "_train_scored"


def evaluate_on_labels(
    con,
    fitted: Fitted,
    config: Config,
    labels,
    *,
    target_precision: float | None = None,
    calibration_method: str | None = "isotonic",
    charts_dir: Path | None = None,
    link_type: str = "dedupe_only",
) -> LabelEvaluation:
    """Accuracy analysis, threshold recommendation and calibration on the labels."""
    import numpy as np

    from training import calibration as cal
    from training.diagnostics import save_chart

    link = link_type != "dedupe_only"
    scorer = fitted.scorer  # set by _scored_pairs
    # Splink's accuracy analysis, from the labels in the form we have them.
    if labels.kind == "clusters":
        con.execute(
            f"CREATE OR REPLACE TABLE _labelled_records AS SELECT r.*, t.entity_id AS "
            f"_truth_entity FROM {fitted.table} r JOIN truth t USING (record_id)"
        )
        from resolution.predict import make_linker

        eval_settings = {
            **scorer.misc.save_model_to_json(),
            "additional_columns_to_retain": ["_truth_entity"],
        }
        evaluator = make_linker(con, "_labelled_records", eval_settings)

        def analysis(output_type):
            return evaluator.evaluation.accuracy_analysis_from_labels_column(
                "_truth_entity", output_type=output_type, add_metrics=["f1"],
                match_weight_round_to_nearest=0.1,
            )
    else:
        if link:
            con.execute(
                f"""CREATE OR REPLACE TABLE _splink_labels AS
                SELECT l.source_system AS source_dataset_l, p.record_id_l,
                       r.source_system AS source_dataset_r, p.record_id_r,
                       CAST(p.is_match AS DOUBLE) AS clerical_match_score
                FROM label_pairs p JOIN {fitted.table} l ON l.record_id = p.record_id_l
                                   JOIN {fitted.table} r ON r.record_id = p.record_id_r"""
            )
        else:
            con.execute(
                "CREATE OR REPLACE TABLE _splink_labels AS SELECT record_id_l, record_id_r, "
                "CAST(is_match AS DOUBLE) AS clerical_match_score FROM label_pairs"
            )

        from resolution.predict import make_linker

        pair_evaluator = make_linker(
            con, fitted.table,
            {**scorer.misc.save_model_to_json(), "retain_matching_columns": True,
             "retain_intermediate_calculation_columns": True},
        )

        def analysis(output_type):
            return pair_evaluator.evaluation.accuracy_analysis_from_labels_table(
                "_splink_labels", output_type=output_type, add_metrics=["f1"],
                match_weight_round_to_nearest=0.1,
            )

    sweep = analysis("table").as_pandas_dataframe()
    threshold, rule = recommend_threshold(sweep, target_precision)
    metrics: dict[str, float] = {}
    if threshold is not None:
        at = sweep[sweep["match_probability"] >= threshold - 1e-12].sort_values(
            "match_probability").iloc[0]
        metrics.update(
            {
                "recommended_threshold": threshold,
                "pairs_precision_at_recommended": float(at["precision"]),
                "pairs_recall_at_recommended": float(at["recall"]),
                "pairs_f1_at_recommended": float(at["f1"]),
                "pairs_fp_at_recommended": float(at["fp"]),
                "pairs_fn_at_recommended": float(at["fn"]),
            }
        )
    match = config.thresholds.match
    at_cfg = sweep[sweep["match_probability"] >= match - 1e-12].sort_values("match_probability")
    if not at_cfg.empty:
        r = at_cfg.iloc[0]
        metrics.update(
            {
                "pairs_precision_at_config_threshold": float(r["precision"]),
                "pairs_recall_at_config_threshold": float(r["recall"]),
                "pairs_f1_at_config_threshold": float(r["f1"]),
            }
        )
    if charts_dir is not None:
        save_chart(analysis("precision_recall"), charts_dir, "precision_recall")
        save_chart(analysis("threshold_selection"), charts_dir, "threshold_selection")

    # Calibration data: scored candidate pairs with a label.
    if labels.kind == "clusters":
        frame = con.sql(
            """SELECT s.match_probability AS p,
                      CAST(tl.entity_id = tr.entity_id AS INTEGER) AS y,
                      hash(s.record_id_l || '|' || s.record_id_r) % 10 AS fold
               FROM _train_scored s JOIN truth tl ON tl.record_id = s.record_id_l
                                    JOIN truth tr ON tr.record_id = s.record_id_r"""
        ).df()
    else:
        frame = con.sql(
            """SELECT s.match_probability AS p, l.is_match AS y,
                      hash(s.record_id_l || '|' || s.record_id_r) % 10 AS fold
               FROM _train_scored s JOIN label_pairs l
                 ON l.record_id_l = least(s.record_id_l, s.record_id_r)
                AND l.record_id_r = greatest(s.record_id_l, s.record_id_r)"""
        ).df()
    calibrator, reliability = None, {}
    p, y = frame["p"].to_numpy(float), frame["y"].to_numpy(int)
    if calibration_method and len(frame) and 0 < y.sum() < len(y):
        # Honest reliability: fit on 70% of the pairs, measure on the other 30%; the
        # stored calibrator is then refit on all of them.
        test = frame["fold"].to_numpy() >= 7
        train_ = ~test
        if test.sum() and 0 < y[train_].sum() < train_.sum():
            holdout = cal.fit(p[train_], y[train_], calibration_method)
            reliability = {
                "raw": cal.reliability(p[test], y[test]),
                "calibrated": cal.reliability(holdout(p[test]), y[test]),
            }
        calibrator = cal.fit(p, y, calibration_method)
        if reliability:
            metrics["ece_raw"] = reliability["raw"].ece
            metrics["ece_calibrated"] = reliability["calibrated"].ece
            metrics["brier_raw"] = reliability["raw"].brier
            metrics["brier_calibrated"] = reliability["calibrated"].brier
            if charts_dir is not None:
                cal.reliability_chart(
                    reliability, charts_dir / "reliability.png",
                    f"reliability on held-out labelled pairs ({calibration_method})",
                )
    elif len(frame):
        metrics["ece_raw"] = cal.reliability(p, y).ece
    metrics["labelled_candidate_pairs"] = float(len(frame))
    metrics["labelled_candidate_matches"] = float(np.sum(y)) if len(frame) else 0.0
    return LabelEvaluation(
        metrics=metrics,
        recommended_threshold=threshold,
        threshold_rule=rule,
        sweep=sweep,
        calibration=calibrator,
        reliability=reliability,
    )


def cluster_metrics(con, config: Config, model) -> dict[str, float]:
    """Run the job's predict-cluster steps (`resolve_records`, as `er dedup` does) with the
    model as it will be registered (`LoadedModel`: calibrator, term-frequency tables) on
    the training records; score against `truth`."""
    from resolution.pipeline import resolve_records
    from training.evaluation import metrics_from_tables

    resolve_records(con, config, model, {}, lambda _s: None)
    m = metrics_from_tables(con, "clusters", "truth").as_dict()
    return {f"clusters_{k}": float(v) for k, v in m.items()}


# --------------------------------------------------------------------------- the run


@dataclass
class RunInfo:
    """Where `log_run` put a training run and the model it registered."""

    run_id: str
    model_name: str
    version: str
    model_uri: str
    tracking_uri: str
    experiment_id: str


@dataclass
class Session:
    """One training run's results, with its DuckDB connection still open.

    The fitted linker reads the standardized training records in `con`, so Splink's charts
    and predictions work until `close()`; `log_run` logs and registers the session.
    """

    con: duckdb.DuckDBPyConnection
    config: Config
    inputs: list[Path]
    link_type: str
    fitted: Fitted
    labels: Any  # training.labels.LabelSummary | None
    evaluation: LabelEvaluation | None
    fingerprint: dict[str, Any]
    params_table: list[dict[str, Any]]
    seconds: dict[str, float]
    warnings: list[str]  # ingest's (they name input rows: not logged) and the fit's
    calibration_method: str | None
    target_precision: float | None
    tmp: Path
    charts_dir: Path
    # term-frequency tables of the training records (column -> pyarrow Table): the model
    # ships them, so every job scores with the same frequencies (resolution.predict)
    tf_tables: dict[str, Any] = field(default_factory=dict)

    @property
    def calibrator(self):
        return self.evaluation.calibration if self.evaluation is not None else None

    def loaded(self, reference: str = "training session") -> LoadedModel:
        """The model as jobs apply it: settings, calibrator, training.json, term frequencies."""
        return _loaded(self.fitted, self.evaluation, self.meta(), self.tf_tables, reference)

    def meta(self) -> dict[str, Any]:
        """`training.json`: how the model was trained and the threshold it recommends."""
        ev, cal = self.evaluation, self.calibrator
        return {
            "link_type": self.link_type,
            "m_from": self.fitted.m_from,
            "lambda_from": self.fitted.lambda_from,
            "trained_on_records": self.fitted.records,
            "labels": self.labels.as_dict() if self.labels is not None else None,
            "recommended_threshold": ev.recommended_threshold if ev else None,
            "threshold_rule": ev.threshold_rule if ev else None,
            "config_match_threshold": self.config.thresholds.match,
            "calibration": cal.method if cal is not None else None,
        }

    def metrics(self) -> dict[str, float]:
        """λ, the EM sessions, stage seconds and, with labels, the evaluation's metrics."""
        fitted = self.fitted
        metrics = {
            "probability_two_random_records_match": float(
                fitted.settings.get("probability_two_random_records_match", 0.0)),
            "training_rows": float(self.fingerprint["rows"]),
        }
        for s in fitted.em_sessions:
            i = s["session"]
            metrics[f"em_{i}_iterations"] = float(s["iterations"])
            metrics[f"em_{i}_converged"] = float(s["converged"])
            if s["final_max_change"] is not None:
                metrics[f"em_{i}_final_max_change"] = s["final_max_change"]
            metrics[f"em_{i}_probability_two_random_records_match"] = s[
                "probability_two_random_records_match"]
        metrics["u_sample_pairs"] = float(fitted.u_pairs)
        metrics["training_health_warnings"] = float(len(fitted.health))
        if fitted.em_sessions:
            metrics["em_sessions"] = float(len(fitted.em_sessions))
            metrics["em_all_converged"] = float(all(s["converged"] for s in fitted.em_sessions))
        for stage, sec in self.seconds.items():
            metrics[f"seconds_{stage}"] = sec
        if self.evaluation is not None:
            metrics.update(self.evaluation.metrics)
            metrics.update(self.evaluation.cluster_metrics)
        return metrics

    def key_figures(self) -> list[str]:
        """The lines `er train` prints about the fit (training.diagnostics.key_figures)."""
        f = self.fitted
        return key_figures(
            records=f.records, u_pairs=f.u_pairs,
            lam=float(f.settings.get("probability_two_random_records_match", 0.0)),
            lambda_from=f.lambda_from, m_from=f.m_from, sessions=f.em_sessions)

    def close(self) -> None:
        import shutil

        self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run(
    config: Config,
    inputs: list[str | Path],
    *,
    encoding: str | None = None,
    on_stage=None,
    link_type: str = "dedupe_only",
    labels_column: str | None = None,
    truth: str | Path | None = None,
    labels_pairs: str | Path | None = None,
    m_from: str | None = None,
    calibration: str | None = "isotonic",
    target_precision: float | None = None,
    charts: bool = True,
    sheet: str | None = None,
) -> Session:
    """Ingest and standardize, train, and evaluate when labels are given; nothing is logged.

    `on_stage(name)` reports progress. `sheet` names the worksheet to read in every Excel
    input. `charts` saves Splink's charts (HTML + PNG) for `log_run`. The caller closes the
    returned session.
    """
    from resolution.pipeline import duckdb_config, prepare_records
    from training import diagnostics
    from training.labels import load_labels

    say = on_stage or (lambda _s: None)
    crypto.require()  # before the first file
    seconds: dict[str, float] = {}
    inputs = [Path(i) for i in inputs]
    tmp = Path(tempfile.mkdtemp(prefix="er-train-"))
    charts_dir = tmp / "charts"
    spill = Path(config.resources.temp_directory) if config.resources.temp_directory else tmp
    con = crypto.connect(duckdb_config(config, spill / "duckdb-spill"))
    try:
        ing = prepare_records(con, config, inputs, encoding, seconds, say, sheet)
        labels = load_labels(
            con, config, inputs, labels_column=labels_column, truth=truth,
            pairs=labels_pairs, encoding=encoding, sheet=sheet,
        )
        say("train")
        t0 = time.perf_counter()
        fitted = fit(con, config, link_type=link_type, labels=labels, m_from=m_from)
        seconds["train"] = time.perf_counter() - t0
        fingerprint = data_fingerprint(con)
        params_table = diagnostics.parameters(fitted.settings)
        tf_tables = term_frequency_tables(con, fitted.table, fitted.settings)

        say("diagnostics")
        t0 = time.perf_counter()
        if charts or labels is not None:
            _scored_pairs(con, fitted, config, link_type != "dedupe_only")
        if charts:
            viz = fitted.linker.visualisations
            diagnostics.save_chart(viz.match_weights_chart(), charts_dir, "match_weights")
            diagnostics.save_chart(viz.m_u_parameters_chart(), charts_dir, "m_u_parameters")
            diagnostics.save_chart(
                fitted.scorer.visualisations.match_weights_histogram(fitted.predictions),
                charts_dir, "match_weights_histogram",
            )
        seconds["diagnostics"] = time.perf_counter() - t0

        evaluation = None
        if labels is not None:
            say("evaluate on labels")
            t0 = time.perf_counter()
            evaluation = evaluate_on_labels(
                con, fitted, config, labels, target_precision=target_precision,
                calibration_method=calibration, charts_dir=charts_dir if charts else None,
                link_type=link_type,
            )
            if labels.kind == "clusters" and link_type == "dedupe_only":
                meta = {"trained_on_records": fitted.records}
                evaluation.cluster_metrics = cluster_metrics(
                    con, config, _loaded(fitted, evaluation, meta, tf_tables))
            seconds["evaluate"] = time.perf_counter() - t0
    except BaseException:
        import shutil

        con.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Session(
        con=con, config=config, inputs=inputs, link_type=link_type, fitted=fitted,
        labels=labels, evaluation=evaluation, fingerprint=fingerprint,
        params_table=params_table, seconds=seconds,
        warnings=[*ing.warnings, *fitted.warnings], calibration_method=calibration,
        target_precision=target_precision, tmp=tmp, charts_dir=charts_dir,
        tf_tables=tf_tables,
    )


def _loaded(fitted: Fitted, evaluation: LabelEvaluation | None, meta: dict[str, Any],
            tf_tables: dict[str, Any], reference: str = "training session") -> LoadedModel:
    cal = evaluation.calibration if evaluation is not None else None
    return LoadedModel(
        settings=fitted.settings, config_yaml=None, reference=reference,
        calibration=cal.to_dict() if cal is not None else None, meta=meta,
        tf_tables=tf_tables or None,
    )


def log_run(
    session: Session,
    config_text: str,
    name: str,
    experiment: str | None = None,
    tags: dict[str, str] | None = None,
) -> RunInfo:
    """Log the session as an MLflow run (experiment default `er-NAME`) and register its
    model as NAME: params, config and settings, diagnostics, charts, evaluation, pyfunc."""
    mlflow = configure_mlflow()
    from training.pyfunc import log_pyfunc_model

    config, fitted, labels, evaluation = (session.config, session.fitted, session.labels,
                                          session.evaluation)
    inputs, fingerprint, tmp = session.inputs, session.fingerprint, session.tmp
    link_type, target_precision = session.link_type, session.target_precision
    exp = mlflow.set_experiment(experiment or f"er-{name}")
    settings = fitted.settings
    settings_path = tmp / SETTINGS_FILE
    settings_path.write_text(json.dumps(settings, ensure_ascii=False, indent=2), "utf-8")
    config_path = tmp / CONFIG_FILE
    config_path.write_text(config_text, "utf-8")
    calibration_path = None
    if session.calibrator is not None:
        calibration_path = session.calibrator.save(tmp)
    meta = session.meta()
    meta_path = tmp / META_FILE
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
    tf_dir = write_tf_tables(session.tf_tables, tmp / TF_DIR)
    version_info = code_version()
    t = config.model.training
    with mlflow.start_run(run_name=name) as run:
        mlflow.set_tags(
            {
                "model_name": name,
                "code_version": version_info["code_version"],
                **({"mlflow.source.git.commit": version_info["git_commit"]}
                   if "git_commit" in version_info else {}),
                "link_type": link_type,
                "supervised": str(labels is not None).lower(),
                # "ok", or how many problems and the first (all: the artifact below)
                "training_health": _health_tag(fitted.health),
                **(tags or {}),
            }
        )
        mlflow.log_params(
            {
                "model_name": name,
                "inputs": ",".join(Path(i).name for i in inputs),
                "link_type": link_type,
                "comparisons": ",".join(c.name for c in config.model.comparisons),
                "blocking_rules": json.dumps(config.model.blocking_rules, ensure_ascii=False),
                "em_blocking_rules": json.dumps(t.em_blocking_rules, ensure_ascii=False),
                "deterministic_recall": t.deterministic_recall,
                "u_max_pairs": t.u_max_pairs,
                "em_max_pairs": t.em_max_pairs,
                "seed": t.seed,
                "match_threshold": config.thresholds.match,
                "m_from": fitted.m_from,
                "lambda_from": fitted.lambda_from,
                "labels": labels.origin if labels is not None else "none",
                "labels_kind": labels.kind if labels is not None else "none",
                "calibration": meta["calibration"] or "none",
                "target_precision": target_precision if target_precision is not None else "none",
                "training_rows": fingerprint["rows"],
                "training_data_hash": fingerprint["hash"],
                "code_version": version_info["code_version"],
            }
        )
        _log_dataset(mlflow, inputs, fingerprint)
        mlflow.log_metrics(session.metrics())

        if fitted.warnings:
            mlflow.log_text("\n".join(fitted.warnings), "training_warnings.txt")
        mlflow.log_dict({"ok": not fitted.health, "warnings": fitted.health},
                        "diagnostics/training_health.json")
        mlflow.log_artifact(str(settings_path))
        mlflow.log_artifact(str(config_path))
        mlflow.log_artifact(str(meta_path))
        mlflow.log_dict({"parameters": session.params_table},
                        "diagnostics/model_parameters.json")
        mlflow.log_dict({"em_sessions": fitted.em_sessions}, "diagnostics/em_sessions.json")
        if session.charts_dir.is_dir():
            mlflow.log_artifacts(str(session.charts_dir), "charts")
        if evaluation is not None:
            mlflow.log_table(evaluation.sweep, "evaluation/threshold_sweep.json")
            mlflow.log_dict(
                {k: v.as_dict() for k, v in evaluation.reliability.items()},
                "evaluation/reliability.json",
            )
        if calibration_path is not None:
            mlflow.log_artifact(str(calibration_path))
        if tf_dir is not None:  # a run ID as model reference reads them from here
            mlflow.log_artifacts(str(tf_dir), TF_DIR)
        version = log_pyfunc_model(
            mlflow, settings_path, config_path, name,
            calibration_path=calibration_path, meta_path=meta_path, config=config,
            tf_dir=tf_dir,
        )
        run_id = run.info.run_id
    return RunInfo(
        run_id=run_id,
        model_name=name,
        version=str(version),
        model_uri=f"models:/{name}/{version}",
        tracking_uri=tracking_uri(),
        experiment_id=exp.experiment_id,
    )


def _health_tag(health: list[dict[str, Any]]) -> str:
    """The `training_health` tag: "ok", or the number of problems and the first one
    (a tag holds at most 5,000 characters)."""
    if not health:
        return "ok"
    more = f" (and {len(health) - 1} more)" if len(health) > 1 else ""
    return f"{len(health)} warning(s): {health[0]['message']}{more}"[:5000]


def _log_dataset(mlflow, inputs, fingerprint) -> None:
    """Record the training input as an MLflow dataset (name, digest), without copying it."""
    try:
        import warnings

        from mlflow.data.dataset_source_registry import resolve_dataset_source
        from mlflow.data.meta_dataset import MetaDataset

        uri = os.path.abspath(str(inputs[0])) if len(inputs) == 1 else ",".join(
            os.path.abspath(str(i)) for i in inputs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            source = resolve_dataset_source(uri)
        ds = MetaDataset(
            source=source,
            name=",".join(Path(i).name for i in inputs)[:200],
            digest=fingerprint["hash"],
        )
        mlflow.log_input(ds, context="training")
    except Exception as exc:
        import logging

        logging.getLogger(__name__).debug("training input not logged as a dataset: %s", exc)
