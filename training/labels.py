"""Labels for supervised training and evaluation, in one of four forms.

- a ground-truth column in the training input (`--labels-column entity_id`): records with
  the same value are the same customer;
- a truth file `record_id,entity_id` (CSV or Parquet, `--truth`);
- a file of labelled pairs `record_id_l,record_id_r,is_match` (`--labels-pairs`), e.g.
  steward decisions exported as training labels. `is_match` is 1/0 (true/false, yes/no
  and a `clerical_match_score` in [0, 1] are accepted too);
- every label in an entity store (`--labels-from-store`): `er label add` answers and the
  steward decisions (confirm, split, merge, move, different, must/cannot-link), the pairs
  `er review export-labels` writes (`resolution.store.store_labels`), counted by source;
  labels that contradict each other are kept and reported (`contradictions`).

Whatever the form, `load_labels` leaves in the connection:
- `truth` (record_id, entity_id) for the column or file forms, restricted to the records
  that were accepted for training;
- `label_pairs` (record_id_l, record_id_r, is_match) with record_id_l < record_id_r: for
  pair labels, the pairs as given; for clusters, the matching pairs only (every pair not
  in it is a non-match).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from resolution.config import Config
from resolution.db import columns, insert_rows, quote_ident, scalar
from resolution.errors import InputError

ONE_WAY = ("give labels one way: --labels-column, --truth, --labels-pairs or "
           "--labels-from-store")
# Pairs of one truth cluster are enumerated for m estimation; a giant "entity" (e.g. a
# placeholder id shared by many records) would explode, so clusters above this are skipped.
MAX_CLUSTER_FOR_PAIRS = 200


@dataclass(frozen=True)
class LabelSummary:
    kind: str  # "clusters" | "pairs"
    origin: str
    labelled_records: int
    match_pairs: int
    non_match_pairs: int | None  # None for clusters: every other pair is a non-match
    entities: int | None
    # store labels: {source: {"match": n, "non_match": n}} of the pairs used, by the
    # action of the decision they come from (label, confirm, split, merge, ...)
    by_source: dict[str, dict[str, int]] | None = None
    # store labels: pairs left out because a record is not among the training records
    not_in_training: int | None = None
    # store labels: labels that contradict each other (resolution.store.StoreLabels)
    contradictions: tuple[dict, ...] = ()

    def as_dict(self) -> dict:
        d = asdict(self)
        d["contradictions"] = len(self.contradictions)  # the list is an MLflow artifact
        return d

    def warnings(self) -> list[str]:
        """One line per contradiction (the first ten, then how many more)."""
        lines = [c["message"] for c in self.contradictions[:10]]
        if len(self.contradictions) > 10:
            lines.append(f"... and {len(self.contradictions) - 10} more contradicting labels "
                         "(all in the run's artifact labels/contradictions.json)")
        return lines


def _truth_from_column(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    inputs: list[str | Path],
    column: str,
    encoding: str | None,
    sheet: str | None = None,
) -> None:
    from resolution.ingest import read_input

    id_col = config.source.columns.get("record_id", "record_id")
    parts = []
    for i, path in enumerate(inputs):
        table = f"_labels_input_{i}"
        read_input(con, path, table, encoding or config.source.encoding, sheet)
        present = {c.lower(): c for c in columns(con, table)}
        for want in (id_col, column):
            if want.lower() not in present:
                raise InputError(
                    f"{path}: labels column '{want}' is missing; the file has: "
                    f"{', '.join(list(present.values())[:20])}"
                )
        rid = quote_ident(present[id_col.lower()])
        # the record_id exactly as ingest keeps it (surrounding spaces and all)
        parts.append(
            f"SELECT CASE WHEN trim({rid}) <> '' THEN {rid} END AS record_id, "
            f"NULLIF(trim({quote_ident(present[column.lower()])}), '') AS entity_id FROM {table}"
        )
    con.execute(
        "CREATE OR REPLACE TABLE _truth_raw AS SELECT record_id, any_value(entity_id) AS "
        f"entity_id FROM ({' UNION ALL '.join(parts)}) WHERE record_id IS NOT NULL GROUP BY 1"
    )
    for i in range(len(inputs)):
        con.execute(f"DROP TABLE _labels_input_{i}")


def _truth_from_file(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    from training.evaluation import load_truth

    load_truth(con, path, "_truth_file")
    con.execute("ALTER TABLE _truth_file RENAME TO _truth_raw")


def _pairs_from_file(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    from resolution.ingest import read_input

    read_input(con, path, "_pairs_raw")
    present = {c.lower(): c for c in columns(con, "_pairs_raw")}
    label = present.get("is_match") or present.get("clerical_match_score")
    missing = [c for c in ("record_id_l", "record_id_r") if c not in present]
    if missing or label is None:
        raise InputError(
            f"{path}: a pairs file needs columns record_id_l,record_id_r,is_match; the file "
            f"has: {', '.join(list(present.values())[:20])}"
        )
    lab = quote_ident(label)
    # record IDs exactly as ingest keeps them; a blank one is empty
    a, b = (f"CASE WHEN trim({quote_ident(present[c])}) <> '' THEN {quote_ident(present[c])} END"
            for c in ("record_id_l", "record_id_r"))
    con.execute(
        f"""
        CREATE OR REPLACE TABLE _pairs_typed AS
        SELECT {a} AS a, {b} AS b,
               CASE WHEN lower(trim({lab})) IN ('1', 'true', 't', 'yes', 'y', 'match') THEN 1
                    WHEN lower(trim({lab})) IN ('0', 'false', 'f', 'no', 'n', 'non-match',
                                                'nonmatch') THEN 0
                    WHEN TRY_CAST({lab} AS DOUBLE) IS NOT NULL
                         THEN CASE WHEN CAST({lab} AS DOUBLE) >= 0.5 THEN 1 ELSE 0 END
               END AS is_match
        FROM _pairs_raw
        """
    )
    bad = scalar(con, "SELECT count(*) FROM _pairs_typed WHERE is_match IS NULL OR a IS NULL "
                      "OR b IS NULL OR a = '' OR b = ''")
    if bad:
        raise InputError(
            f"{path}: {bad} labelled pair(s) have an empty id or an is_match that is not 1/0"
        )
    con.execute("DROP TABLE _pairs_raw")


def _pairs_from_store(con: duckdb.DuckDBPyConnection, store: str | Path):
    """The store's labels as `_pairs_typed` (a, b, is_match) and `_pairs_source`."""
    from resolution.store import store_labels

    found = store_labels(store)
    con.execute("CREATE OR REPLACE TABLE _pairs_source (a VARCHAR, b VARCHAR, is_match INTEGER, "
                "source VARCHAR)")
    insert_rows(con, "_pairs_source", ["a", "b", "is_match", "source"], found.pairs)
    con.execute("CREATE OR REPLACE TABLE _pairs_typed AS SELECT a, b, is_match FROM _pairs_source")
    return found


def load_labels(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    inputs: list[str | Path],
    *,
    labels_column: str | None = None,
    truth: str | Path | None = None,
    pairs: str | Path | None = None,
    store: str | Path | None = None,
    encoding: str | None = None,
    records: str = "records",
    sheet: str | None = None,
) -> LabelSummary | None:
    """Load whichever labels are given (at most one form); None when there are none."""
    given = [x for x in (labels_column, truth, pairs, store) if x is not None]
    if not given:
        return None
    if len(given) > 1:
        raise InputError(ONE_WAY)
    if store is not None:
        return _load_store_pairs(con, store, records)
    if pairs is not None:
        _pairs_from_file(con, pairs)
        con.execute(
            f"""
            CREATE OR REPLACE TABLE label_pairs AS
            SELECT least(a, b) AS record_id_l, greatest(a, b) AS record_id_r,
                   max(is_match) AS is_match
            FROM _pairs_typed
            WHERE a <> b AND a IN (SELECT record_id FROM {records})
                  AND b IN (SELECT record_id FROM {records})
            GROUP BY 1, 2
            """
        )
        con.execute("DROP TABLE _pairs_typed")
        n_match = scalar(con, "SELECT count(*) FROM label_pairs WHERE is_match = 1")
        n_non = scalar(con, "SELECT count(*) FROM label_pairs WHERE is_match = 0")
        if n_match == 0:
            raise InputError(
                f"{pairs}: no labelled matching pair refers to two training records"
            )
        n_rec = scalar(
            con,
            "SELECT count(*) FROM (SELECT record_id_l FROM label_pairs UNION "
            "SELECT record_id_r FROM label_pairs)",
        )
        return LabelSummary("pairs", str(pairs), int(n_rec), int(n_match), int(n_non), None)

    return _cluster_labels(con, config, inputs, labels_column, truth, encoding, records, sheet)


def _load_store_pairs(con: duckdb.DuckDBPyConnection, store: str | Path,
                      records: str) -> LabelSummary:
    found = _pairs_from_store(con, store)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE label_pairs AS
        SELECT a AS record_id_l, b AS record_id_r, is_match FROM _pairs_typed
        WHERE a IN (SELECT record_id FROM {records}) AND b IN (SELECT record_id FROM {records})
        """
    )
    con.execute("DROP TABLE _pairs_typed")
    n_match = scalar(con, "SELECT count(*) FROM label_pairs WHERE is_match = 1")
    n_non = scalar(con, "SELECT count(*) FROM label_pairs WHERE is_match = 0")
    if not found.pairs:
        raise InputError(f"{store}: the store holds no labels yet (label pairs with "
                         "`er label next` / `er label add`, or decide entities in `er review`)")
    if n_match == 0:
        raise InputError(f"{store}: none of the store's {len(found.pairs)} labelled pairs is a "
                         "match between two training records; m cannot be estimated from them")
    by_source: dict[str, dict[str, int]] = {}
    for src, m, n in con.execute(
        """SELECT s.source, s.is_match, count(*) FROM _pairs_source s
           JOIN label_pairs p ON p.record_id_l = s.a AND p.record_id_r = s.b
           GROUP BY 1, 2 ORDER BY 1, 2"""
    ).fetchall():
        by_source.setdefault(src, {"match": 0, "non_match": 0})[
            "match" if m == 1 else "non_match"] = int(n)
    con.execute("DROP TABLE _pairs_source")
    n_rec = scalar(con, "SELECT count(*) FROM (SELECT record_id_l FROM label_pairs UNION "
                        "SELECT record_id_r FROM label_pairs)")
    return LabelSummary(
        "pairs", f"store {store}", int(n_rec), int(n_match), int(n_non), None,
        by_source=by_source, not_in_training=len(found.pairs) - int(n_match) - int(n_non),
        contradictions=tuple(found.contradictions))


def _cluster_labels(con, config, inputs, labels_column, truth, encoding, records,
                    sheet) -> LabelSummary:
    if labels_column is not None:
        _truth_from_column(con, config, inputs, labels_column, encoding, sheet)
        origin = f"column {labels_column}"
    else:
        _truth_from_file(con, truth)
        origin = str(truth)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE truth AS
        SELECT CAST(t.record_id AS VARCHAR) AS record_id, CAST(t.entity_id AS VARCHAR) AS entity_id
        FROM _truth_raw t JOIN {records} r ON r.record_id = CAST(t.record_id AS VARCHAR)
        WHERE t.entity_id IS NOT NULL
        """
    )
    con.execute("DROP TABLE _truth_raw")
    n_rec = scalar(con, "SELECT count(*) FROM truth")
    if n_rec == 0:
        raise InputError(f"labels from {origin}: no labelled record is among the training records")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE label_pairs AS
        WITH t AS (
            SELECT record_id, entity_id, count(*) OVER (PARTITION BY entity_id) AS n FROM truth
        )
        SELECT a.record_id AS record_id_l, b.record_id AS record_id_r, 1 AS is_match
        FROM t a JOIN t b ON a.entity_id = b.entity_id AND a.record_id < b.record_id
        WHERE a.n <= {MAX_CLUSTER_FOR_PAIRS}
        """
    )
    n_match = scalar(con, "SELECT count(*) FROM label_pairs")
    n_ent = scalar(con, "SELECT count(DISTINCT entity_id) FROM truth")
    if n_match == 0:
        raise InputError(f"labels from {origin}: no two training records share an entity")
    return LabelSummary("clusters", origin, int(n_rec), int(n_match), None, int(n_ent))
