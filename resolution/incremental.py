"""Incremental matching: attach new records to the store's entities without re-running
the whole batch (`er match`).

1. Ingest and standardize the new records exactly as a batch job would. A new record
   whose record_id is already in the store is an update: its old version is replaced.
2. Score them with the model: against the stored records with Splink's `predict_between`
   and among themselves with `predict_within`. Term frequencies come from the stored and
   new records together, so they stay current as the store grows.
3. Re-cluster only the neighbourhood: the new records plus every member of a stored
   entity that a new record links to, with the stored pairs among those members and the
   new pairs — the same guarded clustering (chained components of 3+ re-scored pair by
   pair), steward constraints and stable-ID rules as the batch, so the result agrees with
   a batch run on the union (measured in benchmarks/incremental.py).
4. Update the store in one transaction: records, pairs, crosswalk, golden records,
   review queue and entity events of the neighbourhood.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from resolution import crypto
from resolution.cluster import build_review_queue, cluster_records
from resolution.config import Config
from resolution.db import columns, quote_ident, scalar, transaction
from resolution.errors import ResolutionError
from resolution.faults import fault_point  # crash-safety tests only (ER_FAULT_AT)
from resolution.locks import job_locks
from resolution.pipeline import Say, _check_model_columns, _timed, prepare_records
from resolution.predict import score_within_groups, term_frequency_tables, use_tf_tables
from resolution.store import (
    assign_stable_ids,
    attach_store,
    load_constraints,
    open_store,
    undo_begin,
    undo_end,
    write_history,
)
from resolution.survivorship import apply_pins, survive


@dataclass
class MatchSummary:
    job_id: str
    store: str
    records_in: int
    rejected: int
    new_records: int
    updated_records: int
    attached_to_existing: int
    new_entities: int
    merged_entities: int
    entities_touched: int
    pairs_scored: int
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # from ingest

    def as_dict(self) -> dict:
        return asdict(self)


def _score_new(con: duckdb.DuckDBPyConnection, config: Config, settings: dict,
               tf_tables: dict) -> int:
    """Create `_new_pairs`: new-vs-stored and new-vs-new pairs above keep_pairs, with the
    term frequencies `tf_tables` (of the stored and new records together)."""
    from splink import DuckDBAPI, Linker

    from resolution.model.settings import blocking_rule_sql

    settings = {
        **settings,
        "link_type": "dedupe_only",
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": blocking_rule_sql(r)} for r in config.model.blocking_rules
        ],
    }
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("_all_records"), settings, log_level=None)
    use_tf_tables(con, linker, settings, tf_tables)
    new = db_api.register("new_records")
    old = db_api.register("_old_records")
    keep = config.thresholds.keep_pairs or None
    parts = []
    if scalar(con, "SELECT count(*) FROM _old_records"):
        between = linker.inference.predict_between(
            new, old, threshold_match_probability=keep, warning_mode="never"
        )
        parts.append(between.physical_name)
    within = linker.inference.predict_within(
        new, threshold_match_probability=keep, warning_mode="never"
    )
    parts.append(within.physical_name)
    gammas = [c for c in columns(con, parts[0]) if c.startswith("gamma_")]
    gsel = "".join(f", {g}" for g in gammas)
    union = " UNION ALL ".join(
        f"SELECT least(record_id_l, record_id_r) AS l, greatest(record_id_l, record_id_r) AS r, "
        f"match_weight, match_probability{gsel} FROM {t}"
        for t in parts
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE _new_pairs AS
            SELECT l AS record_id_l, r AS record_id_r, any_value(match_weight) AS match_weight,
                   max(match_probability) AS match_probability
                   {''.join(f', any_value({g}) AS {g}' for g in gammas)}
            FROM ({union}) WHERE match_probability >= {config.thresholds.keep_pairs}
            GROUP BY l, r"""
    )
    return scalar(con, "SELECT count(*) FROM _new_pairs")


def match(
    config: Config,
    settings: dict,
    inputs: list[str | Path],
    store_path: str | Path,
    encoding: str | None = None,
    on_stage: Say | None = None,
    calibrator=None,
    lock_wait: float = 0.0,
    sheet: str | None = None,
) -> MatchSummary:
    """Match new records against the store and update it (`sheet`: the worksheet to read in
    every Excel input). Another job on the store makes this one wait up to `lock_wait`
    seconds, then refuse (`resolution.locks`)."""
    say = on_stage or (lambda _s: None)
    store = Path(store_path)
    if not store.exists():
        raise ResolutionError(f"store not found: {store} (run `er dedup --store {store}` first)")
    job_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    # one job per store for the job's whole life (resolution.locks)
    with job_locks(job_id, "match", store=store, wait=lock_wait, say=say):
        return _match_locked(config, settings, inputs, store, job_id, encoding, say, calibrator,
                             sheet)


def _match_locked(
    config: Config,
    settings: dict,
    inputs: list[str | Path],
    store: Path,
    job_id: str,
    encoding: str | None,
    say: Say,
    calibrator,
    sheet: str | None,
) -> MatchSummary:
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    seconds: dict[str, float] = {}
    crypto.require()
    con = crypto.connect()
    try:
        ing = prepare_records(con, config, inputs, encoding, seconds, say, sheet)
        con.execute("ALTER TABLE records RENAME TO new_records")
        _check_model_columns_on(con, settings)
        with _timed(seconds, "load store", say):
            attach_store(con, store, "st", read_only=True)
            has = scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'st' "
                              "AND table_name = 'records'")
            if not has:
                raise ResolutionError(f"store {store} has no records yet; run `er dedup` first")
            con.execute(
                "CREATE TABLE _updated AS SELECT record_id FROM new_records "
                "WHERE record_id IN (SELECT record_id FROM st.records)"
            )
            con.execute(
                "CREATE TABLE _old_records AS SELECT * FROM st.records "
                "WHERE record_id NOT IN (SELECT record_id FROM _updated)"
            )
            con.execute("CREATE TABLE _old_crosswalk AS SELECT * FROM st.crosswalk")
            con.execute(
                "CREATE TABLE _old_pairs AS SELECT * FROM st.pairs WHERE record_id_l NOT IN "
                "(SELECT record_id FROM _updated) AND record_id_r NOT IN (SELECT record_id FROM _updated)"
            )
            con.execute("DETACH st")
            con.execute(
                "CREATE VIEW _all_records AS SELECT * FROM _old_records "
                "UNION ALL BY NAME SELECT * FROM new_records"
            )
        with _timed(seconds, "predict", say):
            # counted once over the stored and new records: the new pairs and the
            # re-scoring of chained components weigh values alike
            tf_tables = term_frequency_tables(con, "_all_records", settings)
            n_pairs = _score_new(con, config, settings, tf_tables)
            if calibrator is not None:
                from resolution.model.calibration import Calibrator, apply_sql

                if isinstance(calibrator, dict):
                    calibrator = Calibrator.from_dict(calibrator)
                apply_sql(con, calibrator, table="_new_pairs")
            fault_point("predict")
        with _timed(seconds, "cluster", say):
            counts = _recluster_neighbourhood(con, config, store, job_id, settings, tf_tables)
        with _timed(seconds, "survive", say):
            survive(con, config.survivorship)
        with _timed(seconds, "write", say):
            summary = MatchSummary(
                job_id=job_id, store=str(store), records_in=ing.rows_in, rejected=ing.rejected,
                new_records=ing.accepted - scalar(con, "SELECT count(*) FROM _updated"),
                updated_records=scalar(con, "SELECT count(*) FROM _updated"),
                pairs_scored=n_pairs, seconds=seconds, warnings=list(ing.warnings), **counts,
            )
            _commit_incremental(con, store, job_id, started, summary, settings)
        return summary
    finally:
        con.close()


def _check_model_columns_on(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    con.execute("CREATE VIEW records AS SELECT * FROM new_records")
    try:
        _check_model_columns(con, settings)
    finally:
        con.execute("DROP VIEW records")


def _recluster_neighbourhood(
    con: duckdb.DuckDBPyConnection, config: Config, store: Path, job_id: str, settings: dict,
    tf_tables: dict,
) -> dict[str, int]:
    match_t = config.thresholds.match
    con.execute(
        f"""CREATE TABLE _touched AS
            SELECT DISTINCT x.entity_id FROM _new_pairs p
            JOIN _old_crosswalk x ON x.record_id IN (p.record_id_l, p.record_id_r)
            WHERE p.match_probability >= {match_t}
            UNION
            SELECT DISTINCT x.entity_id FROM _old_crosswalk x JOIN _updated USING (record_id)"""
    )
    con.execute(
        """CREATE TABLE _local_ids AS
           SELECT record_id FROM new_records
           UNION
           SELECT x.record_id FROM _old_crosswalk x JOIN _touched USING (entity_id)
           WHERE x.record_id NOT IN (SELECT record_id FROM _updated)"""
    )
    con.execute(
        """CREATE TABLE records AS
           SELECT * FROM _all_records WHERE record_id IN (SELECT record_id FROM _local_ids)"""
    )
    con.execute(
        """CREATE TABLE pairs AS
           SELECT * FROM _old_pairs
           WHERE record_id_l IN (SELECT record_id FROM _local_ids)
             AND record_id_r IN (SELECT record_id FROM _local_ids)
           UNION ALL BY NAME
           SELECT * FROM _new_pairs
           WHERE record_id_l IN (SELECT record_id FROM _local_ids)
             AND record_id_r IN (SELECT record_id FROM _local_ids)"""
    )
    load_constraints(con, store)
    # the batch's guard, with the same within-component check: the members of a chained
    # component compared directly, with the new pairs' term frequencies
    cluster_records(con, match_t, config.clustering, score_within=lambda c, groups:
                    score_within_groups(c, settings, groups, "records", tf_tables=tf_tables))
    assign_stable_ids(con, store, job_id, scope="_local_ids")
    build_review_queue(con, config.thresholds.review, config.clustering.max_cluster_size,
                       config.review.budget, config.thresholds.keep_pairs)
    con.execute(
        """CREATE TABLE crosswalk AS
           SELECT r.record_id, r.source_system, c.entity_id, c.membership_confidence
           FROM records r JOIN clusters c USING (record_id) ORDER BY c.entity_id, r.record_id"""
    )
    attached = scalar(
        con,
        """SELECT count(DISTINCT c.record_id) FROM clusters c
           JOIN new_records n USING (record_id)
           WHERE c.entity_id IN (SELECT entity_id FROM _old_crosswalk)""",
    )
    new_entities = scalar(
        con,
        "SELECT count(DISTINCT entity_id) FROM clusters "
        "WHERE entity_id NOT IN (SELECT entity_id FROM _old_crosswalk)",
    )
    merged = scalar(con, "SELECT count(*) FROM _events WHERE event = 'retire'")
    return {
        "attached_to_existing": attached,
        "new_entities": new_entities,
        "merged_entities": merged,
        "entities_touched": scalar(con, "SELECT count(*) FROM _touched"),
    }


def _commit_incremental(
    con: duckdb.DuckDBPyConnection,
    store: Path,
    job_id: str,
    started: str,
    summary: MatchSummary,
    settings: dict,
) -> None:
    import json

    open_store(store).close()
    attach_store(con, store, "st")
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    with transaction(con, detach="st"):
        undo_begin(con, "st")  # what `er store rollback` puts back
        con.execute("DELETE FROM st.records WHERE record_id IN (SELECT record_id FROM new_records)")
        # the open schema: input columns the stored records do not have yet join them
        stored = {c.lower() for c in columns(con, "st.records")}
        for name, typ in con.execute("SELECT column_name, column_type FROM (DESCRIBE new_records)"
                                     ).fetchall():
            if name.lower() not in stored:
                con.execute(f"ALTER TABLE st.records ADD COLUMN {quote_ident(name)} {typ}")
        con.execute("INSERT INTO st.records BY NAME SELECT * FROM new_records")
        con.execute(
            "DELETE FROM st.pairs WHERE record_id_l IN (SELECT record_id FROM _updated) "
            "OR record_id_r IN (SELECT record_id FROM _updated)"
        )
        con.execute("INSERT INTO st.pairs BY NAME SELECT * FROM _new_pairs")
        con.execute("DELETE FROM st.crosswalk WHERE record_id IN (SELECT record_id FROM _local_ids)")
        con.execute("INSERT INTO st.crosswalk BY NAME SELECT * FROM crosswalk")
        gone = "(SELECT entity_id FROM _touched UNION SELECT entity_id FROM clusters)"
        for t in ("entities", "review_queue"):
            con.execute(f"DELETE FROM st.{t} WHERE entity_id IN {gone}")
            con.execute(f"INSERT INTO st.{t} BY NAME SELECT * FROM {t}")
        con.execute("INSERT INTO st.cluster_splits BY NAME SELECT * FROM cluster_splits")
        apply_pins(con, "st.entities", "st.crosswalk", "st.golden_pins")  # steward pins
        write_history(con, job_id, now)
        con.execute(
            "INSERT INTO st.jobs (job_id, kind, started_at, finished_at, model, inputs, records, "
            "entities, summary, settings) VALUES (?, 'match', ?, ?, NULL, NULL, ?, ?, ?, ?)",
            [
                job_id, started, now, summary.new_records + summary.updated_records,
                summary.new_entities, json.dumps(summary.as_dict(), ensure_ascii=False, default=str),
                json.dumps(settings, ensure_ascii=False),
            ],
        )
        undo_end(con, "st", job_id)
        fault_point("commit")  # last in the block: the crash tests kill here, before COMMIT
