"""Plain connected components vs guarded clustering, on the demo data and on constructed
chain cases, at several match thresholds.

    python benchmarks/clustering.py --records 10000 --seed 7

Trains one model on the demo data (no labels), scores pairs once, then clusters the same
pairs both ways and prints pairwise and B-cubed precision/recall/F1. The constructed
cases are chains A–B–C where A and C carry different valid credit codes or different
branches, and two dense groups held together by one weak link; their truth is known by
construction.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from resolution.cluster import cluster_records
from resolution.config import ClusteringConfig, load_config
from resolution.pipeline import prepare_records
from resolution.predict import predict_pairs
from training.evaluation import load_truth, metrics_from_tables
from training.fitting import fit_model

THRESHOLDS = (0.5, 0.9, 0.99)


def _row(name: str, m) -> str:
    return (
        f"{name:<34}{m.pairwise_precision:>8.4f}{m.pairwise_recall:>8.4f}{m.pairwise_f1:>8.4f}"
        f"{m.bcubed_precision:>8.4f}{m.bcubed_recall:>8.4f}{m.bcubed_f1:>8.4f}"
        f"{m.false_positive_pairs:>8,}{m.false_negative_pairs:>8,}"
    )


HEADER = f"{'':<34}{'pair P':>8}{'pair R':>8}{'pair F1':>8}{'B3 P':>8}{'B3 R':>8}{'B3 F1':>8}{'FP':>8}{'FN':>8}"


def chain_cases(n: int = 300) -> duckdb.DuckDBPyConnection:
    """n of each constructed case, as `records`, `pairs` and `truth` tables."""
    con = duckdb.connect()
    recs, pairs, truth = [], [], []
    for i in range(n):
        # different credit codes at the ends of a chain
        a, b, c = f"u{i}a", f"u{i}b", f"u{i}c"
        recs += [(a, f"USCC{i}A", None), (b, None, None), (c, f"USCC{i}C", None)]
        pairs += [(a, b, 0.98), (b, c, 0.93)]
        truth += [(a, f"U{i}"), (b, f"U{i}"), (c, f"U{i}x")]
        # two branches linked through their headquarters record
        h, s1, s2 = f"b{i}h", f"b{i}s1", f"b{i}s2"
        recs += [(h, None, None), (s1, None, "张江"), (s2, None, "金桥")]
        pairs += [(h, s1, 0.99), (h, s2, 0.95), (s1, s2, 0.92)]
        truth += [(h, f"B{i}h"), (s1, f"B{i}h"), (s2, f"B{i}s2")]
        # two dense triangles joined by one weak bridge
        g = [f"g{i}{k}" for k in "abcdef"]
        recs += [(x, None, None) for x in g]
        pairs += [(g[0], g[1], 0.999), (g[1], g[2], 0.999), (g[0], g[2], 0.998),
                  (g[3], g[4], 0.999), (g[4], g[5], 0.999), (g[3], g[5], 0.997), (g[2], g[3], 0.93)]
        truth += [(x, f"G{i}1") for x in g[:3]] + [(x, f"G{i}2") for x in g[3:]]
    con.execute("CREATE TABLE records (record_id VARCHAR, uscc_key VARCHAR, name_branch VARCHAR)")
    con.executemany("INSERT INTO records VALUES (?, ?, ?)", recs)
    con.execute("ALTER TABLE records ADD COLUMN id_card_key VARCHAR")
    con.execute("CREATE TABLE pairs (record_id_l VARCHAR, record_id_r VARCHAR, match_probability DOUBLE)")
    con.executemany("INSERT INTO pairs VALUES (least(?, ?), greatest(?, ?), ?)",
                    [(x, y, x, y, p) for x, y, p in pairs])
    con.execute("CREATE TABLE truth (record_id VARCHAR, entity_id VARCHAR)")
    con.executemany("INSERT INTO truth VALUES (?, ?)", truth)
    return con


def compare(con: duckdb.DuckDBPyConnection, thresholds) -> None:
    print(HEADER)
    for t in thresholds:
        for guard in (False, True):
            cluster_records(con, t, ClusteringConfig(guard=guard))
            name = f"{'guarded' if guard else 'plain components'} @ {t}"
            print(_row(name, metrics_from_tables(con, "clusters", "truth")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    from training.demo_data import write_demo

    config = load_config(ROOT / "configs" / "customer_zh.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        customers, truth = write_demo(Path(tmp), n_records=args.records, seed=args.seed)
        con = duckdb.connect()
        prepare_records(con, config, [customers], None, {}, lambda _s: None)
        load_truth(con, truth)
        settings = fit_model(con, config)
        predict_pairs(con, settings, config.model.blocking_rules, config.thresholds.keep_pairs,
                      config.model.max_comparisons)
        print(f"demo data: {args.records:,} records, seed {args.seed}")
        compare(con, THRESHOLDS)
    print("\nconstructed chain cases (300 each: credit-code chain, branch chain, weak bridge)")
    compare(chain_cases(), (0.9,))


if __name__ == "__main__":
    main()
