"""Incremental matching vs a full batch run on the union.

    python benchmarks/incremental.py --records 10000 --new-share 0.2

Trains once on the demo data, then (a) runs one batch `dedup` on all records and (b) runs
`dedup` on the first part and `match` on the rest. Prints how far (b) agrees with (a)
(pairwise and B-cubed P/R/F1 of one partition against the other), both against the
ground truth, and the time of each step.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from resolution.config import load_config
from resolution.incremental import match
from resolution.pipeline import dedup, prepare_records
from training.evaluation import metrics_from_tables
from training.fitting import fit_model


def crosswalk_of_store(con: duckdb.DuckDBPyConnection, store: Path, name: str) -> None:
    con.execute(f"ATTACH '{store}' AS s (READ_ONLY)")
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT record_id, entity_id FROM s.crosswalk")
    con.execute("DETACH s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--new-share", type=float, default=0.2)
    args = ap.parse_args()
    from training.demo_data import write_demo

    config = load_config(ROOT / "configs" / "customer_zh.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        customers, truth = write_demo(tmp, n_records=args.records, seed=args.seed)
        df = pd.read_csv(customers, dtype=str).sample(frac=1.0, random_state=args.seed)
        cut = int(len(df) * (1 - args.new_share))
        first, rest = tmp / "first.csv", tmp / "rest.csv"
        df.iloc[:cut].to_csv(first, index=False)
        df.iloc[cut:].to_csv(rest, index=False)

        con = duckdb.connect()
        prepare_records(con, config, [customers], None, {}, lambda _s: None)
        settings = fit_model(con, config)

        t0 = time.perf_counter()
        dedup(config, settings, [customers], tmp / "batch", store_path=tmp / "batch.duckdb")
        batch_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        dedup(config, settings, [first], tmp / "inc", store_path=tmp / "inc.duckdb")
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        m = match(config, settings, [rest], tmp / "inc.duckdb")
        match_s = time.perf_counter() - t0

        ev = duckdb.connect()
        crosswalk_of_store(ev, tmp / "batch.duckdb", "batch")
        crosswalk_of_store(ev, tmp / "inc.duckdb", "incremental")
        ev.execute(f"CREATE TABLE truth AS SELECT * FROM read_csv('{truth}', all_varchar=true)")
        agree = metrics_from_tables(ev, "incremental", "batch")
        vs_truth = {n: metrics_from_tables(ev, n, "truth") for n in ("batch", "incremental")}

    print(f"demo data: {args.records:,} records; batch on all vs batch on {cut:,} + match "
          f"{args.records - cut:,}")
    print(f"times: batch all {batch_s:.1f}s | batch part {first_s:.1f}s + match {match_s:.1f}s "
          f"({(args.records - cut) / match_s:,.0f} new records/s)")
    print(f"match: attached {m.attached_to_existing:,}, new entities {m.new_entities:,}, "
          f"merged {m.merged_entities:,}, touched {m.entities_touched:,}")
    print(f"agreement incremental vs batch: pairwise P {agree.pairwise_precision:.4f} "
          f"R {agree.pairwise_recall:.4f} F1 {agree.pairwise_f1:.4f}; B-cubed F1 {agree.bcubed_f1:.4f}; "
          f"clusters {agree.predicted_clusters:,} vs {agree.true_clusters:,}")
    for name, mt in vs_truth.items():
        print(f"{name:<12} vs truth: pairwise P {mt.pairwise_precision:.4f} R {mt.pairwise_recall:.4f} "
              f"F1 {mt.pairwise_f1:.4f}; B-cubed F1 {mt.bcubed_f1:.4f}")


if __name__ == "__main__":
    main()
