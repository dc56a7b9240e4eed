"""Accuracy on the demo data and on an independent second data set: our standardized model
vs plain Splink on the raw columns.

Both models are trained the same way, without labels (prior from deterministic rules,
u by random sampling, m by EM), scored, clustered at the same threshold and evaluated
against the generator's ground truth with pairwise and B-cubed P/R/F1.

Two data sets (`--data demo|second|both`, default both; `--records` records each):
- demo: `training/demo_data/`, the data the defaults were tuned on;
- second: `benchmarks/second_data.py`, written independently of the demo generator, with
  its own noise and hard-negative groups (households, namesakes, shared salespeople, chain
  branches, 个体 owners) named in its truth file.

Beside the metrics, for each data set:
- false pairs (two records in one predicted entity that are not one true entity) by cause:
  a pair is attributed to a hard-negative kind when both records belong to the same
  group of that kind, else to "other". For the engine also: how many of those pairs are a
  direct link at or above the match threshold (the rest come through chaining A–B–C), and
  how many scored links at or above the threshold are false before the guard splits any.
  The demo truth names no groups, so there every false pair is "other".
- a reliability table for the engine's `membership_confidence`: records in multi-record
  entities by confidence bin, with the share placed correctly, in two senses: "no wrong
  co-member" (every other record in its predicted entity is in its true entity) and
  "exact" (its predicted co-members are exactly its true co-members). Records left alone
  are shown apart: their confidence is how sure we are that they have no duplicate, and
  they are placed correctly when their true entity has no other record.

    python benchmarks/accuracy.py --records 10000 --seed 7
    python benchmarks/accuracy.py --data second --records 20000
    python benchmarks/accuracy.py --records 10000 --parameters   # and the learned parameters
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from resolution.config import load_config
from resolution.db import quote_literal
from resolution.pipeline import prepare_records, resolve_records
from training.evaluation import Metrics, load_truth, metrics_from_tables
from training.fitting import fit_model

CAUSES = ("household", "namesake", "salesperson", "branch", "owner", "other")
# membership_confidence bins: [lo, hi), the last one closed
BINS = ((0.0, 0.5), (0.5, 0.9), (0.9, 0.99), (0.99, 1.0))


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
        except Exception as exc:
            print(f"  plain splink: EM rule skipped ({type(exc).__name__})")
    pred = linker.inference.predict(threshold_match_probability=0.01)
    clusters = cluster_pairwise_predictions_at_threshold(
        "raw_view", pred.physical_name, db_api, "record_id", threshold_match_probability=match
    )
    con.execute(
        f"CREATE OR REPLACE TABLE plain_clusters AS SELECT record_id, CAST(cluster_id AS VARCHAR) "
        f"AS entity_id FROM {clusters.physical_name}"
    )


# ------------------------------------------------------------------------------ truth extras


def load_causes(con: duckdb.DuckDBPyConnection, truth_path: Path) -> None:
    """`causes` (record_id, group_id, cause): the hard-negative group of each record that has
    one, from the truth file's `group_id` and `cause` columns (empty when it has none)."""
    src = f"read_csv({quote_literal(str(truth_path))}, all_varchar = true)"
    names = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    if {"group_id", "cause"} <= names:
        con.execute(
            f"CREATE OR REPLACE TABLE causes AS SELECT record_id, group_id, cause FROM {src} "
            "WHERE coalesce(group_id, '') <> ''"
        )
    else:
        con.execute("CREATE OR REPLACE TABLE causes (record_id VARCHAR, group_id VARCHAR, cause VARCHAR)")
    # one VARCHAR-keyed copy of the truth for the joins below
    con.execute(
        "CREATE OR REPLACE TABLE truth_v AS SELECT CAST(record_id AS VARCHAR) AS record_id, "
        "CAST(entity_id AS VARCHAR) AS entity_id FROM truth"
    )


def false_pairs_by_cause(con: duckdb.DuckDBPyConnection, predicted: str, total_false: int) -> dict[str, int]:
    """False pairs inside the predicted entities of `predicted`, by the hard-negative group
    both records share. Counted from contingency counts, no pair lists: within predicted
    entity c and group g, C(n_cg, 2) pairs minus the C(n_ceg, 2) that are one true entity e
    (an entity belongs to at most one group)."""
    got = dict(con.execute(
        f"""
        WITH j AS (
            SELECT CAST(p.entity_id AS VARCHAR) AS c, t.entity_id AS e, k.group_id AS g, k.cause
            FROM {predicted} p
            JOIN truth_v t ON t.record_id = CAST(p.record_id AS VARCHAR)
            JOIN causes k ON k.record_id = t.record_id
        ),
        cg AS (SELECT c, g, any_value(cause) AS cause, count(*) AS n FROM j GROUP BY c, g),
        ceg AS (SELECT c, g, e, count(*) AS n FROM j GROUP BY c, g, e)
        SELECT cause, sum(pairs)::BIGINT FROM (
            SELECT cause, n * (n - 1) // 2 AS pairs FROM cg
            UNION ALL
            SELECT cg.cause, -(ceg.n * (ceg.n - 1) // 2) FROM ceg JOIN cg USING (c, g)
        ) GROUP BY cause
        """
    ).fetchall())
    out = {c: int(got.get(c) or 0) for c in CAUSES if c != "other"}
    out["other"] = total_false - sum(out.values())
    return out


def _pair_cause_sql() -> str:
    return "coalesce(CASE WHEN kl.group_id = kr.group_id THEN kl.cause END, 'other')"


def false_links(con: duckdb.DuckDBPyConnection, match: float) -> tuple[dict[str, int], dict[str, int]]:
    """The engine's scored pairs at or above the match threshold whose records are different
    true entities: (those whose two records ended in one predicted entity, i.e. direct false
    links; all of them, before the guard splits any), each by cause."""
    rows = con.execute(
        f"""
        SELECT {_pair_cause_sql()} AS cause,
               count(*) FILTER (WHERE cl.entity_id = cr.entity_id),
               count(*)
        FROM pairs p
        JOIN truth_v tl ON tl.record_id = CAST(p.record_id_l AS VARCHAR)
        JOIN truth_v tr ON tr.record_id = CAST(p.record_id_r AS VARCHAR)
        JOIN clusters cl ON CAST(cl.record_id AS VARCHAR) = tl.record_id
        JOIN clusters cr ON CAST(cr.record_id AS VARCHAR) = tr.record_id
        LEFT JOIN causes kl ON kl.record_id = tl.record_id
        LEFT JOIN causes kr ON kr.record_id = tr.record_id
        WHERE p.match_probability >= ? AND tl.entity_id <> tr.entity_id
        GROUP BY 1
        """,
        [match],
    ).fetchall()
    direct = {c: 0 for c in CAUSES}
    scored = {c: 0 for c in CAUSES}
    for cause, d, s in rows:
        direct[cause], scored[cause] = int(d), int(s)
    return direct, scored


@dataclass
class Bin:
    label: str
    records: int = 0
    mean_confidence: float = 0.0
    no_wrong: int = 0
    exact: int = 0


def reliability(con: duckdb.DuckDBPyConnection) -> tuple[list[Bin], list[Bin]]:
    """(bins of records in multi-record predicted entities, bins of records left alone).

    With a_c the size of a record's predicted entity c, b_e of its true entity e and n_ce
    the records they share: "no wrong co-member" is n_ce = a_c (its co-members are a subset
    of its true co-members), "exact" is n_ce = a_c = b_e."""
    case = " ".join(
        f"WHEN mc < {hi} THEN {i}" for i, (_lo, hi) in enumerate(BINS[:-1])
    )
    rows = con.execute(
        f"""
        WITH j AS (
            SELECT CAST(c.entity_id AS VARCHAR) AS c, t.entity_id AS e,
                   c.membership_confidence AS mc
            FROM clusters c JOIN truth_v t ON t.record_id = CAST(c.record_id AS VARCHAR)
        ),
        a AS (SELECT c, count(*) AS a FROM j GROUP BY c),
        b AS (SELECT e, count(*) AS b FROM j GROUP BY e),
        n AS (SELECT c, e, count(*) AS n FROM j GROUP BY c, e)
        SELECT a > 1 AS multi, CASE {case} ELSE {len(BINS) - 1} END AS bin, count(*), avg(mc),
               count(*) FILTER (WHERE n = a), count(*) FILTER (WHERE n = a AND n = b)
        FROM j JOIN a USING (c) JOIN b USING (e) JOIN n USING (c, e)
        GROUP BY ALL ORDER BY ALL
        """
    ).fetchall()
    labels = [f"[{lo:g}, {hi:g})" for lo, hi in BINS[:-1]] + [f"[{BINS[-1][0]:g}, {BINS[-1][1]:g}]"]
    multi, alone = [Bin(x) for x in labels], [Bin(x) for x in labels]
    for is_multi, b, n, mean, no_wrong, exact in rows:
        (multi if is_multi else alone)[b] = Bin(labels[b], int(n), float(mean), int(no_wrong), int(exact))
    return multi, alone


# ------------------------------------------------------------------------------ one data set


@dataclass
class Result:
    label: str
    records: int
    ours: Metrics
    plain: Metrics
    ours_s: float
    plain_s: float
    ours_causes: dict[str, int]
    plain_causes: dict[str, int]
    direct: dict[str, int]
    scored: dict[str, int]
    multi: list[Bin] = field(default_factory=list)
    alone: list[Bin] = field(default_factory=list)
    groups: dict[str, int] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def run(label: str, customers: Path, truth: Path, config) -> Result:
    con = duckdb.connect()
    seconds: dict[str, float] = {}
    prepare_records(con, config, [customers], None, seconds, lambda _s: None)
    load_truth(con, truth)
    load_causes(con, truth)

    t0 = time.perf_counter()
    warnings: list[str] = []
    settings = fit_model(con, config, warnings=warnings)
    resolve_records(con, config, settings, seconds, lambda _s: None)
    ours_s = time.perf_counter() - t0
    ours = metrics_from_tables(con, "clusters", "truth")
    ours_causes = false_pairs_by_cause(con, "clusters", ours.false_positive_pairs)
    direct, scored = false_links(con, config.thresholds.match)
    multi, alone = reliability(con)

    t0 = time.perf_counter()
    plain_splink(con, config.thresholds.match)
    plain_s = time.perf_counter() - t0
    plain = metrics_from_tables(con, "plain_clusters", "truth")
    plain_causes = false_pairs_by_cause(con, "plain_clusters", plain.false_positive_pairs)
    groups = dict(con.execute("SELECT cause, count(DISTINCT group_id) FROM causes GROUP BY 1").fetchall())
    con.close()
    return Result(label, ours.records, ours, plain, ours_s, plain_s, ours_causes, plain_causes,
                  direct, scored, multi, alone, groups, settings, warnings)


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f}%" if den else "-"


def parameters(res: Result) -> None:
    """The learned parameters: every level's m, u and weight (log2 m/u); `prior` marks an m
    fixed by a domain prior, and the training's adjustments (pooled levels, capped filled-in
    u, disagreement floors) follow the table."""
    import math

    lam = res.settings["probability_two_random_records_match"]
    print(f"learned parameters ({res.label}); λ {lam:.3g} ({math.log2(lam / (1 - lam)):+.2f} bits)")
    print(f"{'comparison':<14}{'level':<52}{'m':>9}{'u':>11}{'bits':>8}  fixed")
    for comp in res.settings["comparisons"]:
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            bits = f"{math.log2(m / u):+8.2f}" if m and u else f"{'-':>8}"
            ms = f"{m:9.4f}" if m is not None else f"{'untrained':>9}"
            us = f"{u:11.6f}" if u is not None else f"{'-':>11}"
            label = lv.get("label_for_charts", "")[:50]
            print(f"{comp['output_column_name']:<14}{label:<52}{ms}{us}{bits}  "
                  f"{'prior' if lv.get('fix_m_probability') else ''}")
    for w in res.warnings:
        print(f"  warning: {w}")
    print()


def report(res: Result, seed: int, match: float) -> None:
    print(f"{res.label}: {res.records:,} records, seed {seed}, match threshold {match}")
    header = f"{'model':<28}{'pair P':>8}{'pair R':>8}{'pair F1':>9}{'B3 P':>8}{'B3 R':>8}{'B3 F1':>8}{'FP pairs':>10}{'FN pairs':>10}{'clusters':>10}{'secs':>7}"
    print(header)
    for name, m, s in (("standardized (ours)", res.ours, res.ours_s),
                       ("plain Splink, raw columns", res.plain, res.plain_s)):
        print(
            f"{name:<28}{m.pairwise_precision:>8.4f}{m.pairwise_recall:>8.4f}{m.pairwise_f1:>9.4f}"
            f"{m.bcubed_precision:>8.4f}{m.bcubed_recall:>8.4f}{m.bcubed_f1:>8.4f}"
            f"{m.false_positive_pairs:>10,}{m.false_negative_pairs:>10,}{m.predicted_clusters:>10,}{s:>7.1f}"
        )
    print(f"true clusters: {res.ours.true_clusters:,}; true pairs: {res.ours.true_pairs:,}")

    print()
    groups = ", ".join(f"{c} {res.groups[c]}" for c in CAUSES if res.groups.get(c))
    print(f"false pairs in predicted entities by cause (hard-negative groups: {groups or 'none named'})")
    print(f"{'cause':<13}{'ours':>8}{'ours: direct link':>19}{f'ours: links >= {match:g}':>21}{'plain Splink':>14}")
    for c in (*CAUSES, "total"):
        if c == "total":
            vals = [sum(d.values()) for d in (res.ours_causes, res.direct, res.scored, res.plain_causes)]
        else:
            vals = [d[c] for d in (res.ours_causes, res.direct, res.scored, res.plain_causes)]
        print(f"{c:<13}{vals[0]:>8,}{vals[1]:>19,}{vals[2]:>21,}{vals[3]:>14,}")
    print("  (direct link: the false pair is itself a scored link >= the threshold; the rest of")
    print("   'ours' come through chaining. links >= threshold: false scored links before the guard)")

    print()
    print("reliability of membership_confidence (ours)")
    print(f"{'':<14}{'records in multi-record entities':^46}|{'records left alone':^30}")
    print(f"{'confidence':<14}{'records':>9}{'mean conf':>11}{'no wrong co-member':>19}{'exact':>7}"
          f"|{'records':>9}{'mean conf':>11}{'exact':>10}")
    tot_m, tot_a = Bin("all"), Bin("all")
    for bm, ba in zip(res.multi, res.alone):
        print(f"{bm.label:<14}{bm.records:>9,}{bm.mean_confidence:>11.4f}{_pct(bm.no_wrong, bm.records):>19}"
              f"{_pct(bm.exact, bm.records):>7}|{ba.records:>9,}{ba.mean_confidence:>11.4f}"
              f"{_pct(ba.exact, ba.records):>10}")
        for tot, b in ((tot_m, bm), (tot_a, ba)):
            tot.mean_confidence += b.mean_confidence * b.records
            tot.records += b.records
            tot.no_wrong += b.no_wrong
            tot.exact += b.exact
    for tot in (tot_m, tot_a):
        tot.mean_confidence = tot.mean_confidence / tot.records if tot.records else 0.0
    print(f"{'all':<14}{tot_m.records:>9,}{tot_m.mean_confidence:>11.4f}{_pct(tot_m.no_wrong, tot_m.records):>19}"
          f"{_pct(tot_m.exact, tot_m.records):>7}|{tot_a.records:>9,}{tot_a.mean_confidence:>11.4f}"
          f"{_pct(tot_a.exact, tot_a.records):>10}")
    print("  (no wrong co-member: every other record in its predicted entity is in its true entity;")
    print("   exact: its predicted co-members are exactly its true co-members)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10_000, help="records per data set")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", choices=("demo", "second", "both"), default="both")
    ap.add_argument("--config", default=str(ROOT / "configs" / "customer_zh.yaml"))
    ap.add_argument("--second-surname-titles", type=float, default=0.0, metavar="SHARE",
                    help="second data set: this share of person records written by surname "
                    "and title alone (王先生), household members included")
    ap.add_argument("--parameters", action="store_true",
                    help="also print each model's learned parameters and the training's adjustments")
    args = ap.parse_args()

    from benchmarks.second_data import write_second
    from training.demo_data import write_demo

    config = load_config(args.config)
    import functools

    writers = {"demo": ("demo data", write_demo),
               "second": ("second data set", functools.partial(
                   write_second, surname_titles=args.second_surname_titles))}
    names = ("demo", "second") if args.data == "both" else (args.data,)
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(names):
            label, write = writers[name]
            out = Path(tmp) / name
            out.mkdir()
            customers, truth = write(out, n_records=args.records, seed=args.seed)
            res = run(label, customers, truth, config)
            if i:
                print("\n" + "=" * 100 + "\n")
            report(res, args.seed, config.thresholds.match)
            if args.parameters:
                print()
                parameters(res)


if __name__ == "__main__":
    main()
