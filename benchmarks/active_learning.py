"""The steward loop, measured against the truth (issue 17). So far: the review queue's
hit rate.

With W wrong entities in a job (counted against the truth: an entity holding records of
two customers, or one of the parts of a customer split over several entities), the hit
rate is the share of the W within the first 2·W queue entries by `priority`
(cluster.build_review_queue). It is printed beside the same count for the old order
(lowest confidence first), the same for the first 5% of entities (`review.budget: 0.05`),
how many of the W the queue holds at all (whatever the order) and the queue's size. A
wrong entity with no stored pair to its other part (never blocked together, or scored
below `thresholds.keep_pairs`) cannot be found by any queue built from the pairs. On the demo data and on the independently written second data set
(benchmarks/second_data.py), each with a model trained on it, default config.

Still to come (issue 17, part 4): answering `er label next` from the truth in rounds and
printing pairwise P/R/F1 after 0, 50, 100, 200 and 500 labels.

    python benchmarks/active_learning.py --records 10000 --data both
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

from resolution.config import load_config
from resolution.pipeline import prepare_records, resolve_records
from training.evaluation import load_truth
from training.fitting import fit_model

ORDERS = {
    "priority": "priority DESC, record_count DESC, entity_id",
    # the chance alone, not weighted by records: the hit rate counts entities
    "wrong_probability": "wrong_probability DESC, record_count DESC, entity_id",
    "lowest confidence (before)": "cluster_confidence, record_count DESC, entity_id",
}


def wrong_entities(con: duckdb.DuckDBPyConnection) -> None:
    """Table `wrong` (entity_id, kind): the job's entities that the truth says are wrong,
    `false_merge` (records of two or more customers) or `split_part` (its customer also
    has records in another entity); an entity that is both counts as a false merge."""
    con.execute(
        """
        CREATE OR REPLACE TABLE wrong AS
        WITH x AS (SELECT c.entity_id, t.entity_id AS customer
                   FROM clusters c JOIN truth t USING (record_id)),
        fm AS (SELECT entity_id FROM x GROUP BY 1 HAVING count(DISTINCT customer) > 1),
        sp AS (SELECT DISTINCT entity_id FROM x WHERE customer IN (
                   SELECT customer FROM x GROUP BY 1 HAVING count(DISTINCT entity_id) > 1))
        SELECT entity_id, 'false_merge' AS kind FROM fm
        UNION ALL
        SELECT entity_id, 'split_part' FROM sp WHERE entity_id NOT IN (SELECT entity_id FROM fm)
        """
    )


def hit_rates(con: duckdb.DuckDBPyConnection) -> dict:
    wrong_entities(con)
    w = con.execute("SELECT count(*) FROM wrong").fetchall()[0][0]
    out = {
        "W": w,
        "false_merges": con.execute("SELECT count(*) FROM wrong WHERE kind = 'false_merge'")
        .fetchall()[0][0],
        "entities": con.execute("SELECT count(DISTINCT entity_id) FROM clusters").fetchall()[0][0],
        "queue": con.execute("SELECT count(*) FROM review_queue").fetchall()[0][0],
        "in_queue": con.execute("SELECT count(*) FROM wrong JOIN review_queue USING (entity_id)")
        .fetchall()[0][0],
        "hits": {},
    }
    out["hits_5pct"] = {}
    five = -(-out["entities"] * 5 // 100)  # a budget of 0.05: the first 5% of entities
    for name, order in ORDERS.items():
        for key, limit in (("hits", 2 * w), ("hits_5pct", five)):
            out[key][name] = con.execute(
                f"""SELECT count(*) FROM wrong WHERE entity_id IN (
                        SELECT entity_id FROM review_queue ORDER BY {order} LIMIT {limit})"""
            ).fetchall()[0][0]
    out["five"] = five
    # what the priority order puts first but is not wrong, by kind (where the ranking errs)
    out["first_2w_by_kind"] = con.execute(
        f"""SELECT q.kind, count(w.entity_id) AS wrong, count(*) AS entries
            FROM (SELECT * FROM review_queue ORDER BY {ORDERS['priority']} LIMIT {2 * w}) q
            LEFT JOIN wrong w USING (entity_id) GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    return out


def run(label: str, customers: Path, truth: Path, config) -> dict:
    con = duckdb.connect()
    seconds: dict[str, float] = {}
    prepare_records(con, config, [customers], None, seconds, lambda _s: None)
    load_truth(con, truth)
    t0 = time.perf_counter()
    settings = fit_model(con, config, warnings=[])
    resolve_records(con, config, settings, seconds, lambda _s: None)
    res = hit_rates(con) | {"label": label, "seconds": time.perf_counter() - t0}
    con.close()
    return res


def report(r: dict) -> None:
    w = r["W"]
    print(f"{r['label']}: {r['entities']:,} entities, W = {w} wrong ({r['false_merges']} false "
          f"merges, {w - r['false_merges']} parts of split customers); queue {r['queue']:,} "
          f"entries ({100 * r['queue'] / max(r['entities'], 1):.1f}% of entities), holding "
          f"{r['in_queue']} of the W; trained and resolved in {r['seconds']:.0f}s")
    for name, hits in r["hits"].items():
        print(f"  first 2·W = {2 * w} entries by {name:<27}: {hits} of {w} wrong "
              f"= {100 * hits / max(w, 1):.1f}%")
    for name, hits in r["hits_5pct"].items():
        print(f"  first 5% = {r['five']} entries by {name:<27}: {hits} of {w} wrong "
              f"= {100 * hits / max(w, 1):.1f}%")
    for kind, wrong, n in r["first_2w_by_kind"]:
        print(f"    of them {kind}: {n} entries, {wrong} wrong")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10_000, help="records per data set")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", choices=("demo", "second", "both"), default="both")
    ap.add_argument("--config", default=str(ROOT / "configs" / "customer_zh.yaml"))
    args = ap.parse_args()

    from benchmarks.second_data import write_second
    from training.demo_data import write_demo

    config = load_config(args.config)
    writers = {"demo": ("demo data", write_demo), "second": ("second data set", write_second)}
    names = ("demo", "second") if args.data == "both" else (args.data,)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            label, write = writers[name]
            out = Path(tmp) / name
            out.mkdir()
            customers, truth = write(out, n_records=args.records, seed=args.seed)
            report(run(label, customers, truth, config))


if __name__ == "__main__":
    main()
