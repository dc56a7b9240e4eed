"""`er dedup --backend spark` in Spark local mode agrees with the DuckDB job.

pyspark is in the dev extras and Java is on CI machines, so a missing pyspark fails this
module (the import below) rather than skipping it. One SparkSession serves the module:
the job reuses an active session, as it would in a notebook or under spark-submit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest
from conftest import CONFIG, run_cli
from pyspark.sql import SparkSession
from splink.backends.spark import SparkAPI, similarity_jar_location

from resolution.db import quote_literal
from resolution.spark_backend import spark_sql

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
        .appName("er tests")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    SparkAPI(spark_session=session)  # registers the jar's functions, as the job does
    yield session
    session.stop()


@pytest.fixture(scope="module")
def both_runs(spark, tmp_path_factory, demo_files, trained_model):
    """The same input, config, model and store (with a previous job and two steward
    decisions) through both backends; also the decisions and the seconds per run."""
    customers, _ = demo_files
    base = tmp_path_factory.mktemp("backends")
    dedup = ["dedup", "--config", CONFIG, "--model", trained_model, "--input", customers]
    run_cli(*dedup, "--out", base / "first")
    with duckdb.connect(str(base / "first" / "job.duckdb"), read_only=True) as con:
        strong = con.execute(
            "SELECT record_id_l, record_id_r FROM pairs WHERE match_probability > 0.99 "
            "ORDER BY record_id_l, record_id_r LIMIT 1"
        ).fetchone()
        weak = con.execute(
            "SELECT record_id_l, record_id_r FROM pairs WHERE match_probability < 0.5 "
            "ORDER BY record_id_l, record_id_r LIMIT 1"
        ).fetchone()
    store = base / "first" / "store.duckdb"
    run_cli("store", "cannot-link", "--store", store, *strong)
    run_cli("store", "must-link", "--store", store, *weak)
    seconds = {}
    # the Spark run's folder has a quote in its name: the Parquet it exchanges with Spark
    # lives beside the output, and those paths reach DuckDB's SQL as quoted literals
    folders = {"duckdb": base / "duckdb", "spark": base / "spark o'brien"}
    for backend, folder in folders.items():
        folder.mkdir()
        shutil.copy(store, folder / "store.duckdb")
        t0 = time.perf_counter()
        run_cli(*dedup, "--out", folder, "--backend", backend)
        seconds[backend] = time.perf_counter() - t0
    return folders["duckdb"], folders["spark"], {"cannot": strong, "must": weak}, seconds


def _attach(duck: Path, spark_out: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"ATTACH {quote_literal(str(duck / 'job.duckdb'))} AS d (READ_ONLY)")
    con.execute(f"ATTACH {quote_literal(str(spark_out / 'job.duckdb'))} AS s (READ_ONLY)")
    return con


def test_spark_entities_agree_with_duckdb(both_runs):
    duck, spark_out, decisions, seconds = both_runs
    for out in (duck, spark_out):
        for name in (
            "job.duckdb",
            "crosswalk.parquet",
            "entities.parquet",
            "review_queue.parquet",
            "quality.json",
            "summary.json",
        ):
            assert (out / name).is_file(), f"{out / name} missing"
    # the Spark job leaves no work folder behind
    assert not list(spark_out.glob(".tmp-*"))

    # pairwise agreement of the two clusterings, through the public `er evaluate`
    result = run_cli("evaluate", "--out", spark_out, "--truth", duck / "crosswalk.parquet")
    pairwise = next(line for line in result.output.splitlines() if "pairwise" in line)
    precision, recall, f1 = (float(x) for x in re.findall(r"\d\.\d{4}", pairwise))
    con = _attach(duck, spark_out)
    same_entity_sets = (
        con.execute(
            """
        WITH d AS (SELECT list(record_id ORDER BY record_id) AS m FROM d.crosswalk GROUP BY entity_id),
             s AS (SELECT list(record_id ORDER BY record_id) AS m FROM s.crosswalk GROUP BY entity_id)
        SELECT (SELECT count(*) FROM (SELECT m FROM d EXCEPT SELECT m FROM s))
             + (SELECT count(*) FROM (SELECT m FROM s EXCEPT SELECT m FROM d))
        """
        ).fetchone()[0]
        == 0
    )
    n_entities = [con.execute(f"SELECT count(*) FROM {db}.entities").fetchone()[0] for db in "ds"]
    print(
        f"\nspark vs duckdb: pairwise precision {precision:.4f} recall {recall:.4f} "
        f"F1 {f1:.4f}, identical entity sets: {same_entity_sets}, "
        f"entities {n_entities[1]} vs {n_entities[0]}; "
        f"seconds duckdb {seconds['duckdb']:.1f}, spark {seconds['spark']:.1f}"
    )
    assert f1 >= 0.99
    assert same_entity_sets
    # the steward decisions win on Spark too
    entity = dict(con.execute("SELECT record_id, entity_id FROM s.crosswalk").fetchall())
    assert entity[decisions["must"][0]] == entity[decisions["must"][1]]
    assert entity[decisions["cannot"][0]] != entity[decisions["cannot"][1]]
    # same entity IDs for the same records, and the same confidence
    differ = con.execute(
        """
        SELECT count(*) FROM d.crosswalk a FULL JOIN s.crosswalk b USING (record_id)
        WHERE a.entity_id IS DISTINCT FROM b.entity_id
           OR abs(a.membership_confidence - b.membership_confidence) > 1e-9
           OR a.membership_confidence IS NULL OR b.membership_confidence IS NULL
        """
    ).fetchone()[0]
    assert differ == 0
    summaries = [json.loads((o / "summary.json").read_text("utf-8")) for o in (duck, spark_out)]
    for key in (
        "accepted",
        "entities",
        "candidate_pairs",
        "pairs_scored",
        "guard_splits",
        "review_queue",
    ):
        assert summaries[0][key] == summaries[1][key], key
    assert [s["backend"] for s in summaries] == ["duckdb", "spark"]


def test_spark_scores_every_pair_like_duckdb(both_runs):
    """Every comparison's SQL was translated faithfully: same pairs, same level for every
    comparison of every pair, the same probability to rounding."""
    duck, spark_out, _, _ = both_runs
    con = _attach(duck, spark_out)
    gammas = [r[0] for r in con.sql("DESCRIBE d.pairs").fetchall() if r[0].startswith("gamma_")]
    assert len(gammas) >= 5
    n_duck, n_spark, n_both = con.execute(
        """
        SELECT (SELECT count(*) FROM d.pairs), (SELECT count(*) FROM s.pairs),
               (SELECT count(*) FROM d.pairs JOIN s.pairs USING (record_id_l, record_id_r))
        """
    ).fetchone()
    assert n_duck > 100 and n_duck == n_spark == n_both
    per_comparison = {
        g: con.execute(
            f"SELECT count(*) FROM d.pairs a JOIN s.pairs b USING (record_id_l, record_id_r) "
            f"WHERE a.{g} IS DISTINCT FROM b.{g}"
        ).fetchone()[0]
        for g in gammas
    }
    print(f"\npairs {n_duck}; pairs whose level differs per comparison: {per_comparison}")
    assert not any(per_comparison.values()), per_comparison
    worst = con.execute(
        "SELECT max(abs(a.match_probability - b.match_probability)) "
        "FROM d.pairs a JOIN s.pairs b USING (record_id_l, record_id_r)"
    ).fetchone()[0]
    assert worst < 1e-9


def test_similarity_functions_agree_on_both_engines(spark):
    """The functions the comparison SQL uses return exactly the same values on DuckDB
    and on Spark (Splink's jar, our Spark SQL Jaro-Winkler), on Chinese, pinyin and digit
    strings, so a level is chosen the same way on both backends. Jaro(-Winkler) and
    Damerau-Levenshtein are compared on ASCII only: DuckDB's count bytes of Chinese text,
    and the settings apply them to pinyin, emails and digits only; Jaccard is compared on
    everything (the Spark side counts bytes as DuckDB does)."""
    rng = np.random.default_rng(7)
    alphabets = [
        "张王李赵刘陈杨黄周吴伟芳娜敏静强磊军洋勇艳杰",
        "abcdefghijklmnoprstuwxyz",
        "0123456789",
        "ab",  # many transpositions
        "李王 .",  # words and dots, for the split functions
    ]
    pairs = []
    for alphabet in alphabets:
        for _ in range(400):
            a = "".join(rng.choice(list(alphabet), rng.integers(1, 9)))
            b = list(a)
            for _ in range(rng.integers(0, 3)):  # a few edits, so near matches are common
                i = rng.integers(0, len(b) + 1)
                op = rng.integers(0, 3)
                if op == 0:
                    b.insert(i, rng.choice(list(alphabet)))
                elif b and op == 1:
                    b.pop(min(i, len(b) - 1))
                elif len(b) > 1:
                    j = min(i, len(b) - 2)
                    b[j], b[j + 1] = b[j + 1], b[j]
            pairs.append((a, "".join(b) or a))
    exprs = {
        "jaro_winkler": 'jaro_winkler_similarity("x_l", "x_r")',
        "jaro": 'jaro_similarity("x_l", "x_r")',
        "damerau_levenshtein": 'damerau_levenshtein("x_l", "x_r")',
        "jaccard": 'jaccard("x_l", "x_r")',
        "char_overlap": 'len(list_filter(string_split("x_l", \'\'), lambda ch: contains("x_r", ch)))'
        '::DOUBLE / greatest(length("x_l"), length("x_r"), 1)',
        "one_in_common": 'list_has_any(list_filter(["x_l", NULL], lambda v: v IS NOT NULL), '
        'list_filter(["x_r", "x_l"], lambda v: v IS NOT NULL))',
        "starts_with": 'starts_with("x_r", "x_l")',
        "word_in": 'list_contains(string_split("x_r", \' \'), "x_l")',
        "dot_parts": "len(string_split(\"x_r\", '.'))",
    }
    con = duckdb.connect()
    con.execute("CREATE TABLE p (i INTEGER, x_l VARCHAR, x_r VARCHAR)")
    pairs_rows = [(i, a, b) for i, (a, b) in enumerate(pairs)]
    con.executemany("INSERT INTO p VALUES (?, ?, ?)", pairs_rows)
    select = ", ".join(f"{sql} AS {name}" for name, sql in exprs.items())
    duck = con.sql(f"SELECT i, {select} FROM p ORDER BY i").fetchall()
    spark.createDataFrame(pairs_rows, "i INT, x_l STRING, x_r STRING").createOrReplaceTempView("p")
    spark_select = ", ".join(f"{spark_sql(sql)} AS {name}" for name, sql in exprs.items())
    theirs = [tuple(r) for r in spark.sql(f"SELECT i, {spark_select} FROM p ORDER BY i").collect()]
    differ = {name: 0 for name in exprs}
    for (_, x_l, x_r), d_row, s_row in zip(pairs_rows, duck, theirs, strict=True):
        for k, name in enumerate(exprs, start=1):
            if name.startswith(("jaro", "damerau")) and not (x_l + x_r).isascii():
                # DuckDB's are byte-based beyond ASCII; the model applies Jaro(-Winkler) to
                # pinyin and emails, Damerau-Levenshtein to digits only
                continue
            a, b = d_row[k], s_row[k]
            if isinstance(a, bool) or isinstance(b, bool):
                same = bool(a) == bool(b)
            else:
                same = float(a) == float(b)  # exactly: a level is `>= threshold`
            differ[name] += not same
    print(f"\n{len(pairs)} string pairs; values that differ between DuckDB and Spark: {differ}")
    assert not any(differ.values()), differ


def test_spark_backend_without_java_is_a_user_error(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-jdk")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "resolution.cli",
            "dedup",
            "--config",
            str(CONFIG),
            "--model",
            trained_model,
            "--input",
            str(customers),
            "--out",
            str(tmp_path / "out"),
            "--backend",
            "spark",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (proc.stdout + proc.stderr).strip().startswith("error: --backend spark needs Java")
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "out" / "job.duckdb").exists()


def test_dedup_help_names_the_backends():
    out = run_cli("dedup", "--help").output
    assert "--backend" in out and "spark" in out and "--spark-master" in out


@pytest.mark.parametrize("config_name", ["customer_zh.yaml", "febrl.yaml", "rldata.yaml"])
def test_every_comparison_level_translates_to_valid_spark_sql(spark, config_name):
    """Each shipped config's comparison levels and blocking rules, once translated, are
    accepted by Spark's analyser (a function Spark lacks would fail here, not mid-job)."""
    import re as _re

    from resolution.config import load_config
    from resolution.model.settings import build_settings
    from resolution.spark_backend import spark_settings

    config = load_config(ROOT / "configs" / config_name)
    settings = spark_settings(build_settings(config), config.model.blocking_rules)
    levels = [
        lvl["sql_condition"]
        for comp in settings["comparisons"]
        for lvl in comp["comparison_levels"]
        if lvl["sql_condition"].upper() != "ELSE"
    ]
    rules = [r["blocking_rule"] for r in settings["blocking_rules_to_generate_predictions"]]
    columns = {c for sql in levels for c in _re.findall(r"`(\w+)_[lr]`", sql)}
    columns |= {c for rule in rules for c in _re.findall(r"\b[lr]\.`?(\w+)`?", rule)}
    assert columns and rules
    pairs = ", ".join(f"{c}_{side} STRING" for c in sorted(columns) for side in "lr")
    spark.createDataFrame([], pairs).createOrReplaceTempView("t")
    records = ", ".join(f"{c} STRING" for c in sorted(columns))
    spark.createDataFrame([], records).createOrReplaceTempView("r")
    # spark.sql analyses the query at once: an unknown function or column raises here
    for sql in levels:
        spark.sql(f"SELECT CASE WHEN {sql} THEN 1 ELSE 0 END AS v FROM t")
    for rule in rules:
        spark.sql(f"SELECT 1 FROM r AS l JOIN r AS r ON {rule}")


def test_list_comparison_levels_agree_on_both_engines(spark):
    """A list comparison (kind list: Jaccard, then shared items) and Splink's
    ArrayIntersectAtSizes choose the same level on DuckDB and on Spark for the same pairs
    of lists (DuckDB's list_intersect is Spark's array_intersect, len is size)."""
    from resolution.config import ComparisonConfig
    from resolution.model.settings import comparison

    forms = {
        "own": ComparisonConfig(name="own", kind="list", column="x", jaccard=[0.6, 0.3],
                                overlap=[2, 1]),
        "splink": ComparisonConfig(name="splink", splink="ArrayIntersectAtSizes", column="x",
                                   args={"size_threshold_or_thresholds": [2, 1]}),
    }
    rng = np.random.default_rng(5)
    items = [f"i{k}" for k in range(8)]
    rows = [(i, sorted({str(v) for v in rng.choice(items, rng.integers(1, 5))}),
             sorted({str(v) for v in rng.choice(items, rng.integers(1, 5))}))
            for i in range(300)]

    def case(levels: list[dict], translate) -> str:
        whens = " ".join(f"WHEN {translate(lv['sql_condition'])} THEN {n}"
                         for n, lv in enumerate(levels) if lv["sql_condition"] != "ELSE")
        return f"CASE {whens} ELSE -1 END"

    con = duckdb.connect()
    con.execute("CREATE TABLE p (i INTEGER, x_l VARCHAR[], x_r VARCHAR[])")
    con.executemany("INSERT INTO p VALUES (?, ?, ?)", rows)
    spark.createDataFrame(rows, "i INT, x_l ARRAY<STRING>, x_r ARRAY<STRING>"
                          ).createOrReplaceTempView("lists")
    for name, cc in forms.items():
        levels = comparison(cc)["comparison_levels"]
        duck = con.sql(f"SELECT i, {case(levels, str)} FROM p ORDER BY i").fetchall()
        theirs = [tuple(r) for r in spark.sql(
            f"SELECT i, {case(levels, spark_sql)} FROM lists ORDER BY i").collect()]
        assert duck == theirs, name
        assert len({g for _i, g in duck}) >= 3, name  # the pairs reach several levels
