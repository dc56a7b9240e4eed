"""Accuracy on the demo data: our standardized model vs plain Splink on the raw columns.

Both models are trained the same way, without labels (prior from deterministic rules,
u by random sampling, m by EM), scored, clustered at the same threshold and evaluated
against the generator's ground truth with pairwise and B-cubed P/R/F1.

    python benchmarks/accuracy.py --records 10000 --seed 7
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from resolution.config import load_config  # noqa: E402
from resolution.pipeline import prepare_records, resolve_records  # noqa: E402
from training.evaluation import load_truth, metrics_from_tables  # noqa: E402
from training.fitting import fit_model  # noqa: E402


def plain_splink(con: duckdb.DuckDBPyConnection, match: float) -> None:
    """What a user gets from Splink's comparison library on the raw CRM columns."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    raw = [
        "customer_name", "contact_name", "mobile", "phone", "email", "address", "uscc",
        "id_card", "city",
    ]
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("customer_name", [0.95, 0.88]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("contact_name", [0.95, 0.88]),
            cl.LevenshteinAtThresholds("mobile", [1, 2]),
            cl.LevenshteinAtThresholds("phone", [1, 2]),
            cl.EmailComparison("email"),
            cl.LevenshteinAtThresholds("address", [2, 5]),
            cl.ExactMatch("uscc"),
            cl.ExactMatch("id_card"),
            cl.ExactMatch("city"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("customer_name"), block_on("mobile"), block_on("phone"),
            block_on("email"), block_on("uscc"), block_on("id_card"),
            block_on("substr(customer_name, 1, 2)", "city"),
        ],
    )
    cols = ", ".join(raw)
    con.execute(f"CREATE OR REPLACE TABLE raw_view AS SELECT record_id, {cols} FROM raw_records")
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("raw_view"), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("uscc"), block_on("id_card"), block_on("customer_name", "mobile")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    for rule in (block_on("customer_name"), block_on("mobile"), block_on("city", "address")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        except Exception as exc:  # noqa: BLE001 - report and go on, like a user would
            print(f"  plain splink: EM rule skipped ({type(exc).__name__})")
    pred = linker.inference.predict(threshold_match_probability=0.01)
    clusters = cluster_pairwise_predictions_at_threshold(
        "raw_view", pred.physical_name, db_api, "record_id", threshold_match_probability=match
    )
    con.execute(
        f"CREATE OR REPLACE TABLE plain_clusters AS SELECT record_id, CAST(cluster_id AS VARCHAR) "
        f"AS entity_id FROM {clusters.physical_name}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--config", default=str(ROOT / "configs" / "customer_zh.yaml"))
    args = ap.parse_args()

    from training.demo_data import write_demo

    config = load_config(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        customers, truth = write_demo(Path(tmp), n_records=args.records, seed=args.seed)
        con = duckdb.connect()
        seconds: dict[str, float] = {}
        prepare_records(con, config, [customers], None, seconds, lambda _s: None)
        load_truth(con, truth)

        t0 = time.perf_counter()
        settings = fit_model(con, config)
        resolve_records(con, config, settings, seconds, lambda _s: None)
        ours_s = time.perf_counter() - t0
        ours = metrics_from_tables(con, "clusters", "truth")

        t0 = time.perf_counter()
        plain_splink(con, config.thresholds.match)
        plain_s = time.perf_counter() - t0
        plain = metrics_from_tables(con, "plain_clusters", "truth")

    print(f"demo data: {args.records:,} records, seed {args.seed}, match threshold "
          f"{config.thresholds.match}")
    header = f"{'model':<28}{'pair P':>8}{'pair R':>8}{'pair F1':>9}{'B3 P':>8}{'B3 R':>8}{'B3 F1':>8}{'FP pairs':>10}{'FN pairs':>10}{'clusters':>10}{'secs':>7}"
    print(header)
    for name, m, s in (("standardized (ours)", ours, ours_s), ("plain Splink, raw columns", plain, plain_s)):
        print(
            f"{name:<28}{m.pairwise_precision:>8.4f}{m.pairwise_recall:>8.4f}{m.pairwise_f1:>9.4f}"
            f"{m.bcubed_precision:>8.4f}{m.bcubed_recall:>8.4f}{m.bcubed_f1:>8.4f}"
            f"{m.false_positive_pairs:>10,}{m.false_negative_pairs:>10,}{m.predicted_clusters:>10,}{s:>7.1f}"
        )
    print(f"true clusters: {ours.true_clusters:,}")


if __name__ == "__main__":
    main()
