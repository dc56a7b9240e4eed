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
sqlglot and maps the functions whose names or types differ onto Spark's (Splink's
similarity jar supplies `jaro_winkler`, `jaccard` and `damerau_levenshtein`); a
function Spark does not know fails the job when Spark analyses the query.
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
from resolution.db import scalar
from resolution.errors import ResolutionError

# DuckDB function -> Spark function (Splink's jar registers the similarity ones)
_RENAMES = {
    "jaro_winkler_similarity": "jaro_winkler",
    "jaro_similarity": "jaro_sim",
    "list_has_any": "arrays_overlap",
    "array_has_any": "arrays_overlap",
}


def _duckdb_to_spark(node):
    """sqlglot transform: DuckDB idioms that transpile wrongly or not at all."""
    from sqlglot import exp

    if isinstance(node, exp.JarowinklerSimilarity):
        return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
    if isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.Anonymous) and node.name.lower() in _RENAMES:
        return exp.Anonymous(this=_RENAMES[node.name.lower()], expressions=node.expressions)
    # len(list) is size(list) in Spark; length() there counts characters of a string
    if isinstance(node, exp.Length) and isinstance(
        node.this, (exp.ArrayFilter, exp.Split, exp.StringToArray, exp.Array, exp.Filter)
    ):
        return exp.ArraySize(this=node.this)
    # string_split(x, '') splits into characters; Spark's split('', regex) does the same
    if isinstance(node, (exp.Split, exp.StringToArray)) and node.expression is not None:
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


def _start_session(options: SparkConfig, master: str | None) -> _Session:
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
        "spark.sql.shuffle.partitions": str(options.shuffle_partitions),
        "spark.ui.showConsoleProgress": "false",
        **options.conf,
    }
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - no Java, a bad master URL: pyspark's errors are long
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResolutionError(
            f"cannot start Spark ({first}); --backend spark needs Java 17+ (java on PATH or "
            "JAVA_HOME) and a reachable --spark-master"
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
        self._session = _start_session(options, master)
        job = work_dir.parent.name.removeprefix(".tmp-")
        self.work = Path(options.work_dir) / f"er-{job}" if options.work_dir else work_dir
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
            lineage = self.options.break_lineage_method
            if lineage in ("parquet", "checkpoint") and sc._jsc.sc().getCheckpointDir().isEmpty():
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
        con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")
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
            FROM read_parquet('{out}/*.parquet')
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
        con.execute(
            "CREATE OR REPLACE TABLE _spark_components AS SELECT CAST(record_id AS VARCHAR) "
            f"AS record_id, CAST(cluster_id AS VARCHAR) AS cluster_id "
            f"FROM read_parquet('{out}/*.parquet')"
        )
        return "_spark_components"

    def close(self) -> None:
        """Remove the work folder; stop the session only if this job started it."""
        if self._session.created:
            self.spark.stop()
        shutil.rmtree(self.work, ignore_errors=True)


__all__ = ["SparkBackend", "spark_settings", "spark_sql"]
