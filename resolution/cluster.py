"""Cluster: group records into entities from the scored pairs, and say how sure we are.

Connected components at the match threshold come from Splink. Around them we own:

- `entity_id`: derived from the entity's member record IDs (a hash of the sorted IDs), so a
  re-run with the same input and model gives the same IDs, independent of row order.
- `membership_confidence` (per record): for a record in a multi-record entity, the
  probability of its strongest link to another member, i.e. how firmly it is held in;
  for a record alone, 1 minus the probability of its strongest link to any record, i.e.
  how sure we are that it has no duplicate.
- `cluster_confidence` (per entity): the weakest membership confidence among its members.

Owns table `clusters` (record_id, entity_id, membership_confidence, cluster_confidence,
cluster_size) and `review_queue`.
"""

from __future__ import annotations

import duckdb

from resolution.db import scalar


def cluster_records(
    con: duckdb.DuckDBPyConnection, match_threshold: float, records: str = "records"
) -> int:
    """Create `clusters`; return the number of entities."""
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    db_api = DuckDBAPI(connection=con)
    components = cluster_pairwise_predictions_at_threshold(
        nodes=records,
        edges="pairs",
        db_api=db_api,
        node_id_column_name="record_id",
        threshold_match_probability=match_threshold,
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE _components AS
        SELECT CAST(record_id AS VARCHAR) AS record_id, CAST(cluster_id AS VARCHAR) AS component
        FROM {components.physical_name}
        """
    )
    components.drop_table_from_database_and_remove_from_cache()
    con.execute(
        """
        CREATE OR REPLACE TABLE _entity_ids AS
        SELECT component,
               'E' || upper(substr(md5(string_agg(record_id, chr(31) ORDER BY record_id)), 1, 16))
                   AS entity_id,
               count(*) AS cluster_size
        FROM _components GROUP BY component
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE _edges AS
        SELECT record_id_l AS a, record_id_r AS b, match_probability AS p FROM pairs
        UNION ALL
        SELECT record_id_r, record_id_l, match_probability FROM pairs
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE clusters AS
        WITH membership AS (
            SELECT c.record_id, e.entity_id, e.cluster_size,
                   max(x.p) FILTER (WHERE cx.component = c.component) AS best_inside,
                   max(x.p) AS best_any
            FROM _components c
            JOIN _entity_ids e USING (component)
            LEFT JOIN _edges x ON x.a = c.record_id
            LEFT JOIN _components cx ON cx.record_id = x.b
            GROUP BY ALL
        )
        SELECT record_id, entity_id, cluster_size,
               CASE WHEN cluster_size > 1 THEN coalesce(best_inside, 0)
                    ELSE 1 - coalesce(best_any, 0) END AS membership_confidence,
               min(CASE WHEN cluster_size > 1 THEN coalesce(best_inside, 0)
                        ELSE 1 - coalesce(best_any, 0) END)
                   OVER (PARTITION BY entity_id) AS cluster_confidence
        FROM membership
        ORDER BY entity_id, record_id
        """
    )
    con.execute("DROP TABLE _components; DROP TABLE _entity_ids; DROP TABLE _edges")
    return scalar(con, "SELECT count(DISTINCT entity_id) FROM clusters")


def build_review_queue(
    con: duckdb.DuckDBPyConnection,
    review_threshold: float,
    max_cluster_size: int,
) -> int:
    """Create `review_queue`: entities a steward should look at, with the reason in words."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE review_queue AS
        WITH ent AS (
            SELECT entity_id, any_value(cluster_size) AS record_count,
                   min(cluster_confidence) AS cluster_confidence
            FROM clusters GROUP BY entity_id
        ),
        cross_pairs AS (   -- scored pairs whose records ended in different entities
            SELECT c.entity_id AS e1, d.entity_id AS e2, p.match_probability AS p
            FROM pairs p
            JOIN clusters c ON c.record_id = p.record_id_l
            JOIN clusters d ON d.record_id = p.record_id_r
            WHERE c.entity_id <> d.entity_id
        ),
        near_miss AS (
            SELECT entity_id, max(p) AS p FROM (
                SELECT e1 AS entity_id, p FROM cross_pairs
                UNION ALL SELECT e2, p FROM cross_pairs)
            GROUP BY entity_id
        )
        SELECT ent.entity_id, ent.record_count, ent.cluster_confidence,
               CASE
                 WHEN ent.record_count > {max_cluster_size}
                   THEN '实体过大：' || ent.record_count || ' 条记录，可能误合并 (unusually large entity)'
                 WHEN ent.record_count > 1
                   THEN '最弱关联置信度 ' || round(ent.cluster_confidence, 3)
                        || '，低于复核阈值 (weakest link below review threshold)'
                 ELSE '存在可能重复的记录（匹配概率 ' || round(coalesce(nm.p, 0), 3)
                        || '），未合并 (possible duplicate not merged)'
               END AS reason
        FROM ent LEFT JOIN near_miss nm USING (entity_id)
        WHERE ent.cluster_confidence < {review_threshold}
           OR ent.record_count > {max_cluster_size}
        ORDER BY ent.cluster_confidence, ent.record_count DESC, ent.entity_id
        """
    )
    return scalar(con, "SELECT count(*) FROM review_queue")
