"""The steward loop, measured against the truth (issue 17): the review queue's hit rate,
and a steward who answers `er label next` in rounds.

With W wrong entities in a job (counted against the truth: an entity holding records of
two customers, or one of the parts of a customer split over several entities), the hit
rate is the share of the W within the first 2·W queue entries by `priority`
(cluster.build_review_queue). It is printed beside the same count for the old order
(lowest confidence first), the same for the first 5% of entities (`review.budget: 0.05`),
how many of the W the queue holds at all (whatever the order) and the queue's size. A
wrong entity with no stored pair to its other part (never blocked together, or scored
below `thresholds.keep_pairs`) cannot be found by any queue built from the pairs. On the demo data and on the independently written second data set
(benchmarks/second_data.py), each with a model trained on it, default config.

The simulated steward (`--rounds`, on by default), through the public Python API the
CLI calls: train unsupervised (`training.train`) → dedup into a store (`resolution.dedup`)
→ `er label next --n 50` (`resolution.labels.next_pairs`) answered from the truth →
`er label add` (`add_labels`) → retrain with `--labels-from-store` → dedup again, and so
on; pairwise P/R/F1 and B³ F1 of each job against the truth after 0, 50, 100, 200 and 500
labels (`--checkpoints`), with the queue's hit rate of that job. By default the model
is retrained and the data deduplicated again at each checkpoint only (`--retrain
checkpoints`: the rounds between two checkpoints ask from the latest job's pairs, which
exclude every pair already answered); `--retrain every-round` does it after each round of
50 (about twice the time to 500 labels). A retrained job links at
the threshold the labels recommend (`--threshold recommended`, `er dedup
--use-recommended-threshold`) or at the config's (`--threshold config`). The labels also
act directly: each answer is a must-link or cannot-link the next job keeps.

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


def store_hit_rates(out_dir: Path, truth: Path) -> dict:
    """`hit_rates` of a finished job (its crosswalk and review queue in OUT/job.duckdb)."""
    from resolution import crypto

    con = crypto.connect()
    try:
        crypto.attach(con, out_dir / "job.duckdb", "job", read_only=True)
        con.execute("CREATE TABLE clusters AS SELECT record_id, entity_id FROM job.crosswalk")
        con.execute("CREATE TABLE review_queue AS SELECT * FROM job.review_queue")
        load_truth(con, truth)
        return hit_rates(con)
    finally:
        con.close()


def answer_from_truth(ask: Path, entity: dict[str, str]) -> tuple[int, int]:
    """Fill in is_match of an `er label next` file as a steward who knows the truth
    would; returns (same, different)."""
    import csv

    with ask.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    same = 0
    with ask.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["record_id_l", "record_id_r", "is_match"])
        for r in rows:
            m = int(entity[r["record_id_l"]] == entity[r["record_id_r"]])
            same += m
            w.writerow([r["record_id_l"], r["record_id_r"], m])
    return same, len(rows) - same


def steward_rounds(label: str, customers: Path, truth: Path, config: str, work: Path,
                   checkpoints: list[int], round_size: int, threshold: str,
                   retrain: str = "checkpoints", m_from: str | None = None) -> list[dict]:
    """The simulated steward (see the module); one result per checkpoint."""
    import csv

    import resolution as er
    import training
    from resolution.labels import add_labels, next_pairs

    with truth.open(newline="", encoding="utf-8") as f:
        entity = {r["record_id"]: r["entity_id"] for r in csv.DictReader(f)}
    store = work / "store.duckdb"
    results: list[dict] = []
    labelled = same = 0
    step = 0

    def job(model, supervised: bool) -> None:
        nonlocal step
        out = work / f"job{step}"
        step += 1
        t0 = time.perf_counter()
        summary = er.dedup(customers, config, model.as_loaded(), out, store=store,
                           use_recommended_threshold=supervised and threshold == "recommended"
                           and model.recommended_threshold is not None)
        m = training.evaluate(summary, truth)
        results.append({
            "labels": labelled, "same": same, "metrics": m, "hits": store_hit_rates(out, truth),
            "threshold": (model.recommended_threshold if supervised and threshold == "recommended"
                          and model.recommended_threshold is not None else None),
            "m_from": model.meta.get("m_from"), "train_s": train_s,
            "dedup_s": time.perf_counter() - t0,
        })

    t0 = time.perf_counter()
    with training.train(customers, config, charts=False) as model:
        train_s = time.perf_counter() - t0
        job(model, supervised=False)
    first = results[-1]
    report(first["hits"] | {"label": label, "seconds": first["train_s"] + first["dedup_s"]})
    report_round(label, first)
    ask = work / "ask.csv"
    while labelled < max(checkpoints):
        want = min(round_size, min(c for c in checkpoints if c > labelled) - labelled)
        asked = next_pairs(store, want, ask)
        if asked.pairs == 0:
            print(f"  no uncertain pair left to ask after {labelled} labels")
            break
        s, _ = answer_from_truth(ask, entity)
        add_labels(store, ask, "steward-sim")
        labelled += asked.pairs
        same += s
        if retrain == "checkpoints" and labelled not in checkpoints and asked.pairs == want:
            continue
        t0 = time.perf_counter()
        with training.train(customers, config, labels_from_store=store, charts=False,
                            m_from=m_from) as model:
            train_s = time.perf_counter() - t0
            job(model, supervised=True)
        if labelled in checkpoints:
            report_round(label, results[-1])
    return [r for r in results if r["labels"] in checkpoints or r["labels"] == 0]


def report_round(label: str, r: dict) -> None:
    m, h = r["metrics"], r["hits"]
    w = h["W"]
    at = f"recommended {r['threshold']:.3f}" if r["threshold"] is not None else "config"
    print(f"{label}: after {r['labels']:>3} labels ({r['same']} same): pairwise "
          f"P {m.pairwise_precision:.4f} R {m.pairwise_recall:.4f} F1 {m.pairwise_f1:.4f}, "
          f"B³ F1 {m.bcubed_f1:.4f}; W = {w} wrong entities, first 2·W by priority hold "
          f"{h['hits']['priority']} ({100 * h['hits']['priority'] / max(w, 1):.1f}%); "
          f"threshold {at}, m from {r['m_from']}; train {r['train_s']:.0f}s, "
          f"dedup+evaluate {r['dedup_s']:.0f}s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10_000, help="records per data set")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", choices=("demo", "second", "both"), default="both")
    ap.add_argument("--config", default=str(ROOT / "configs" / "customer_zh.yaml"))
    ap.add_argument("--rounds", action=argparse.BooleanOptionalAction, default=True,
                    help="simulate the steward in rounds (--no-rounds: the hit rate only)")
    ap.add_argument("--checkpoints", default="50,100,200,500",
                    help="labels after which P/R/F1 are printed (the largest is the total)")
    ap.add_argument("--round-size", type=int, default=50, help="pairs asked per round")
    ap.add_argument("--threshold", choices=("recommended", "config"), default="recommended",
                    help="where a retrained model's jobs link")
    ap.add_argument("--retrain", choices=("checkpoints", "every-round"), default="checkpoints",
                    help="retrain and dedup again at each checkpoint, or after every round")
    ap.add_argument("--m-from", choices=("mixed", "labels", "em"), default=None,
                    help="er train --m-from for the retrained models (default: mixed)")
    args = ap.parse_args()
    checkpoints = sorted({int(c) for c in args.checkpoints.split(",") if c.strip()})

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
            if args.rounds:  # round 0's job gives the hit rate too
                steward_rounds(label, customers, truth, args.config, out, checkpoints,
                               args.round_size, args.threshold, args.retrain, args.m_from)
            else:
                report(run(label, customers, truth, config))


if __name__ == "__main__":
    main()
