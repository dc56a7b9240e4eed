"""The Spark backend of `er dedup --backend spark`: the same model scored by Splink on Spark.

What runs where:
- ingest and standardize run as in the DuckDB job (the standardizers are Python); the
  standardized records are written to Parquet in the Spark work folder — the
  "pre-standardized input" a cluster reads;
- Splink's prediction (blocking, comparison vectors, term frequencies, match weights)
  runs on Spark through `SparkAPI` with the model's trained parameters, the config's
  blocking rules and the `keep_pairs` threshold; the kept pairs come back as Parquet;
- connected components of the links (pairs at the match threshold, steward
  constraints applied) run on Spark too, and come back as Parquet;
- the guard against chaining, stable IDs, survivorship, the review queue and the
  outputs are the DuckDB job's own code, so both backends write the same tables.

The model's comparison SQL is written for DuckDB. `spark_sql` translates it with
sqlglot and maps the functions whose names or types differ onto Spark's: list functions
onto higher-order functions, `jaccard` onto `jaccard_bytes_sql` (DuckDB 1.5's byte-set
Jaccard), `damerau_levenshtein` onto Splink's similarity
jar (the same values as DuckDB's on ASCII: the model applies it to digits), and Jaro(-Winkler) onto `jaro_winkler_sql`, DuckDB's
definition in Spark SQL (the jar's differs). A function Spark does not know fails the
job when Spark analyses the query. tests/test_spark.py checks every function value for
value and every pair's comparison levels against the DuckDB job.
"""

from __future__ import annotations

import copy
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from resolution.config import SparkConfig
from resolution.db import quote_literal, scalar
from resolution.errors import ResolutionError

# DuckDB function -> Spark function of the same meaning
_RENAMES = {
    "list_has_any": "arrays_overlap",
    "array_has_any": "arrays_overlap",
    # list comparisons (kind list, Splink's ArrayIntersectAtSizes)
    "list_intersect": "array_intersect",
    "array_intersect": "array_intersect",
}


def jaro_winkler_sql(a: str, b: str, winkler: bool = True) -> str:
    """DuckDB's `jaro_winkler_similarity(a, b)` (`jaro_similarity` without Winkler) in
    Spark SQL, value for value.

    Splink's jar has a Jaro-Winkler, but it counts half a transposition where DuckDB
    rounds down, so near matches score up to 1/(6m) lower and can drop a level. This
    is DuckDB's definition in higher-order functions, run by the JVM on any cluster:
    match window max(len)/2 - 1, greedy matching left to right, t = mismatches DIV 2,
    and the Winkler boost (prefix up to 4, weight 0.1) above 0.7.
    Empty text scores 0.
    Like DuckDB's it is exact for ASCII (pinyin, emails); DuckDB counts bytes beyond it.
    """
    la, lb = f"length({a})", f"length({b})"

    def let(value: str, name: str, body: str) -> str:
        # Spark SQL has no LET: aggregate over one element binds `value` to `name` once
        return f"aggregate(array(0), {value}, ({name}_, z_) -> {name}_, {name} -> {body})"

    window = f"greatest(CAST(floor(greatest({la}, {lb}) / 2) AS INT) - 1, 0)"
    positions = f"sequence(1, greatest({lb}, 1))"
    # first unused position in b within the window that holds a's ii-th character
    match = (
        f"try_element_at(filter({positions}, jj -> jj <= {lb} AND abs(jj - ii) <= {window} "
        f"AND NOT element_at(acc.used, jj) AND substring({b}, jj, 1) = substring({a}, ii, 1)), 1)"
    )
    step = let(
        match,
        "jv",
        f"CASE WHEN ii > {la} OR jv IS NULL THEN acc ELSE named_struct("
        f"'used', transform(acc.used, (uu, kk) -> uu OR kk + 1 = jv), "
        f"'ma', concat(acc.ma, array(substring({a}, ii, 1)))) END",
    )
    matched = (
        f"aggregate(sequence(1, greatest({la}, 1)), named_struct('used', "
        f"array_repeat(false, greatest({lb}, 1)), 'ma', CAST(array() AS ARRAY<STRING>)), "
        f"(acc, ii) -> {step})"
    )
    pair = (
        "named_struct('ma', r.ma, 'mb', transform(filter("
        + positions
        + f", kk -> kk <= {lb} AND element_at(r.used, kk)), kk -> substring({b}, kk, 1)))"
    )
    m = "size(q.ma)"
    half = f"size(filter(sequence(1, greatest({m}, 1)), kk -> kk <= {m} AND try_element_at(q.ma, kk) != try_element_at(q.mb, kk)))"
    sim = f"CAST(({m} / {la} + {m} / {lb} + ({m} - floor({half} / 2)) / {m}) / 3 AS DOUBLE)"
    score = "sv"
    if winkler:
        prefix = (
            f"(coalesce(try_element_at(filter(sequence(1, 5), kk -> kk = 5 OR kk > least({la}, {lb}) "
            f"OR substring({a}, kk, 1) != substring({b}, kk, 1)), 1), 5) - 1)"
        )
        # DuckDB 1.5 computes sv + (prefix * 0.1) * (1 - sv) with two roundings (no fused
        # multiply-add), in this order
        boost = (
            f"CAST(sv + CAST({prefix} * CAST(0.1 AS DOUBLE) AS DOUBLE) * CAST(1 - sv AS DOUBLE) "
            f"AS DOUBLE)"
        )
        score = f"CASE WHEN sv > CAST(0.7 AS DOUBLE) THEN {boost} ELSE sv END"
    body = let(
        pair, "q", f"CASE WHEN {m} = 0 THEN CAST(0 AS DOUBLE) ELSE {let(sim, 'sv', score)} END"
    )
    return (
        f"CASE WHEN {la} = 0 OR {lb} = 0 THEN CAST(0 AS DOUBLE) ELSE {let(matched, 'r', body)} END"
    )


def jaccard_bytes_sql(a: str, b: str) -> str:
    """DuckDB's `jaccard(a, b)` in Spark SQL, value for value: the Jaccard index of the sets
    of UTF-8 *bytes* of the two strings (DuckDB 1.5 compares bytes, so a Chinese character
    contributes its three bytes; Splink's jar compares characters)."""
    def byte_set(x: str) -> str:
        return (f"array_distinct(transform(sequence(1, greatest(octet_length({x}), 1)), "
                f"i -> hex(substring(encode({x}, 'UTF-8'), i, 1))))")
    return (f"CAST(size(array_intersect({byte_set(a)}, {byte_set(b)})) AS DOUBLE) / "
            f"size(array_union({byte_set(a)}, {byte_set(b)}))")


def _duckdb_to_spark(node):
    """sqlglot transform: DuckDB idioms that transpile wrongly or not at all."""
    import sqlglot
    from sqlglot import exp

    if isinstance(node, exp.JarowinklerSimilarity) or (
        isinstance(node, exp.Anonymous) and node.name.lower() == "jaro_similarity"
    ):
        a, b = (
            (node.this, node.expression)
            if isinstance(node, exp.JarowinklerSimilarity)
            else tuple(node.expressions)
        )
        sql = jaro_winkler_sql(
            a.sql(dialect="spark"),
            b.sql(dialect="spark"),
            winkler=isinstance(node, exp.JarowinklerSimilarity),
        )
        return sqlglot.parse_one(sql, read="spark")
    if isinstance(node, exp.Anonymous) and node.name.lower() == "jaccard":
        a, b = node.expressions
        return sqlglot.parse_one(
            jaccard_bytes_sql(a.sql(dialect="spark"), b.sql(dialect="spark")), read="spark")
    if isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.Anonymous) and node.name.lower() in _RENAMES:
        return exp.Anonymous(this=_RENAMES[node.name.lower()], expressions=node.expressions)
    # len(list) is size(list) in Spark; length() there counts characters of a string
    if isinstance(node, exp.Length) and isinstance(
        node.this, (exp.ArrayFilter, exp.Split, exp.StringToArray, exp.Array, exp.Filter)
    ):
        return exp.ArraySize(this=node.this)
    # string_split(x, '') splits into characters. sqlglot quotes the delimiter as a
    # literal regex (\Q…\E), right for any other delimiter, but split(x, '\Q\E') adds
    # a trailing '' that split(x, '') does not
    if (
        isinstance(node, (exp.Split, exp.StringToArray))
        and isinstance(node.expression, exp.Literal)
        and node.expression.is_string
        and node.expression.this == ""
    ):
        return exp.Anonymous(this="split", expressions=[node.this, node.expression])
    return node


def spark_sql(sql: str) -> str:
    """One DuckDB SQL expression (a comparison level or blocking key) as Spark SQL."""
    import sqlglot

    if sql.strip().upper() == "ELSE":
        return sql
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise ResolutionError(f"cannot translate the model's SQL to Spark: {sql!r} ({exc})")
    # twice: a node rebuilt around its child (len -> size) hides that child from the pass
    return tree.transform(_duckdb_to_spark).transform(_duckdb_to_spark).sql(dialect="spark")


def spark_settings(settings: dict[str, Any], blocking_rules: list[list[str]]) -> dict[str, Any]:
    """The trained settings with every SQL condition and blocking rule in Spark SQL;
    parameters (m, u, λ, term-frequency columns) unchanged."""
    from splink import block_on

    s = copy.deepcopy(settings)
    s["sql_dialect"] = "spark"
    for comp in s.get("comparisons", []):
        comp.pop("sql_dialect", None)
        for level in comp.get("comparison_levels", []):
            level.pop("sql_dialect", None)
            level["sql_condition"] = spark_sql(level["sql_condition"])
    s["blocking_rules_to_generate_predictions"] = [
        {
            "blocking_rule": block_on(*(spark_sql(k) for k in rule))
            .get_blocking_rule("spark")
            .blocking_rule_sql,
            "sql_dialect": "spark",
        }
        for rule in blocking_rules
    ]
    # keep each comparison's level and weight so `pairs` explains every score, as on DuckDB
    s["retain_intermediate_calculation_columns"] = True
    s["retain_matching_columns"] = True
    return s


@dataclass
class _Session:
    spark: Any
    created: bool


def _start_session(options: SparkConfig, master: str | None, work: Path) -> _Session:
    try:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location
    except ImportError as exc:
        raise ResolutionError(
            f"--backend spark needs pyspark ({exc}); install it with "
            "pip install 'resolution[spark]', or use --backend duckdb"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:  # a notebook's or spark-submit's session is used as it is
        return _Session(active, created=False)
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home) / "bin" / "java" if java_home else shutil.which("java")
    if not os.environ.get("PYSPARK_GATEWAY_PORT") and not (java and Path(java).exists()):
        where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no java on PATH"
        raise ResolutionError(
            f"--backend spark needs Java 17+ ({where}); install a JDK and set JAVA_HOME, "
            "or use --backend duckdb"
        )
    builder = SparkSession.builder.appName("er dedup")
    # under spark-submit the master comes from spark-submit unless named here
    master = master or options.master
    if master or not os.environ.get("PYSPARK_GATEWAY_PORT"):
        builder = builder.master(master or "local[2]")
    conf = {
        "spark.jars": similarity_jar_location(),
        # Spark otherwise creates ./spark-warehouse in the working directory
        "spark.sql.warehouse.dir": str(work / "warehouse"),
        "spark.sql.shuffle.partitions": str(options.shuffle_partitions),
        "spark.ui.showConsoleProgress": "false",
        **options.conf,
    }
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResolutionError(
            f"cannot start Spark with master {master or 'local[2]'} ({first}); check "
            "--spark-master or resources.spark.master (local[N], spark://host:7077, yarn, "
            "k8s://...) and that Java 17+ is installed"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    return _Session(spark, created=True)


class SparkBackend:
    """Scores pairs and finds connected components on Spark for the batch job.

    `predict_pairs` and `connected_components` leave their results in the job's DuckDB
    connection in the same shape as the DuckDB code, so everything after them is shared.
    """

    def __init__(self, options: SparkConfig, work_dir: Path, master: str | None = None):
        self.options = options
        job = work_dir.parent.name.removeprefix(".tmp-")
        self.work = Path(options.work_dir) / f"er-{job}" if options.work_dir else work_dir
        self._session = _start_session(options, master, self.work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.spark = self._session.spark
        self._api = None

    @property
    def master(self) -> str:
        return self.spark.sparkContext.master

    def api(self):
        if self._api is None:
            from splink.backends.spark import SparkAPI

            sc = self.spark.sparkContext
            # Splink materialises its intermediate tables (personal data) under the
            # checkpoint folder: this job's own, removed with the work folder at the end
            sc.setCheckpointDir(str(self.work / "checkpoints"))
            self._api = SparkAPI(
                spark_session=self.spark,
                break_lineage_method=self.options.break_lineage_method,
                num_partitions_on_repartition=self.options.shuffle_partitions,
            )
            if not self.spark.catalog.functionExists("jaro_winkler"):
                raise ResolutionError(
                    "Splink's similarity jar is not on the Spark classpath; pass "
                    "--jars $(python -c 'from splink.backends.spark import "
                    "similarity_jar_location as j; print(j())') to spark-submit"
                )
        return self._api

    def _to_parquet(self, con: duckdb.DuckDBPyConnection, sql: str, name: str) -> str:
        path = self.work / f"{name}.parquet"
        con.execute(f"COPY ({sql}) TO {quote_literal(str(path))} (FORMAT parquet)")
        return str(path)

    def predict_pairs(
        self,
        con: duckdb.DuckDBPyConnection,
        settings: dict[str, Any],
        blocking_rules: list[list[str]],
        keep_threshold: float,
        max_comparisons: float,
        table: str = "records",
        across_sources_only: bool = False,
    ):
        """Same contract as `resolution.predict.predict_pairs`: creates `pairs`."""
        import logging

        from splink import Linker

        from resolution.predict import PredictResult, check_blocking_size

        total = check_blocking_size(
            con, blocking_rules, max_comparisons, table, across_sources_only
        )
        records = self._to_parquet(con, f"SELECT * FROM {table}", "records")
        api = self.api()
        sdf = api.register(self.spark.read.parquet(records))
        linker = Linker(sdf, spark_settings(settings, blocking_rules), log_level=None)
        logging.getLogger("splink").setLevel(logging.ERROR)
        df_pred = linker.inference.predict(threshold_match_probability=keep_threshold or None)
        pred = df_pred.as_spark_dataframe()
        keep = ["record_id_l", "record_id_r", "match_weight", "match_probability"] + [
            c for c in pred.columns if c.startswith(("gamma_", "mw_"))
        ]
        out = self.work / "pairs.parquet"
        (
            pred.select(*keep)
            .where(pred.match_probability >= keep_threshold)
            .write.mode("overwrite")
            .parquet(str(out))
        )
        df_pred.drop_table_from_database_and_remove_from_cache()
        parts = quote_literal(f"{out}/*.parquet")  # the files Spark wrote
        gamma_cast = "".join(
            f", CAST({c} AS INTEGER) AS {c}" if c.startswith("gamma_") else f", {c}"
            for c in keep[4:]
        )
        con.execute(
            f"""
            CREATE OR REPLACE TABLE pairs AS
            SELECT CAST(record_id_l AS VARCHAR) AS record_id_l,
                   CAST(record_id_r AS VARCHAR) AS record_id_r,
                   match_weight, match_probability{gamma_cast}
            FROM read_parquet({parts})
            ORDER BY record_id_l, record_id_r
            """
        )
        return PredictResult(
            candidate_pairs=total, pairs_kept=scalar(con, "SELECT count(*) FROM pairs")
        )

    def connected_components(self, con: duckdb.DuckDBPyConnection, nodes: str, edges: str) -> str:
        """Connected components of `edges` over `nodes` (both DuckDB tables) on Spark;
        returns a DuckDB table (record_id, cluster_id)."""
        from splink.clustering import cluster_pairwise_predictions_at_threshold

        node_path = self._to_parquet(con, f"SELECT record_id FROM {nodes}", "nodes")
        edge_path = self._to_parquet(
            con, f"SELECT record_id_l, record_id_r, match_probability FROM {edges}", "links"
        )
        api = self.api()
        cc = cluster_pairwise_predictions_at_threshold(
            nodes=self.spark.read.parquet(node_path),
            edges=self.spark.read.parquet(edge_path),
            db_api=api,
            node_id_column_name="record_id",
            threshold_match_probability=0.0,
        )
        out = self.work / "components.parquet"
        cc.as_spark_dataframe().select("record_id", "cluster_id").write.mode("overwrite").parquet(
            str(out)
        )
        cc.drop_table_from_database_and_remove_from_cache()
        parts = quote_literal(f"{out}/*.parquet")
        con.execute(
            "CREATE OR REPLACE TABLE _spark_components AS SELECT CAST(record_id AS VARCHAR) "
            f"AS record_id, CAST(cluster_id AS VARCHAR) AS cluster_id "
            f"FROM read_parquet({parts})"
        )
        return "_spark_components"

    def close(self) -> None:
        """Remove the work folder; stop the session only if this job started it."""
        if self._session.created:
            self.spark.stop()
        shutil.rmtree(self.work, ignore_errors=True)


__all__ = ["SparkBackend", "spark_settings", "spark_sql"]
