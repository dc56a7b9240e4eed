"""Duplicate check at data entry: "is this customer already in the store?"

A CRM form sends one record as a sales rep types it; we answer in a few milliseconds with
the store's entities it most likely belongs to, each with a match probability and the
fields that matched. `er check` (one record or a small file) and `er check serve` (HTTP
`POST /check`, FastAPI, bound to 127.0.0.1 unless `--host` says otherwise) call
`Checker.check`:

    curl -s localhost:8001/check -H "Authorization: Bearer erc_…" \
         -H 'content-type: application/json' \
         -d '{"customer_name": "旺拓食品", "mobile": "137-6670-0872"}'
    {"likely_duplicate": true, "candidates": [{"entity_id": "E7B2…", "match_probability":
     0.98, "matched_fields": [{"comparison": "customer_name", "level": "exact",
     "match_weight": 8.5}, {"comparison": "mobile", "level": "same number", …}],
     "differing_fields": [], "entity": {golden record, phones/e-mails/ID masked}}], …}

Over HTTP every request needs an API token (resolution/tokens.py, `er tokens create`),
checked before the body is read (`_Authorize`); a `check` token gets the candidates'
phones, e-mails and ID numbers masked (resolution/review/mask.py), `check_full` gets them
whole, `check_admin` may also POST /reload. The CLI masks the ID card only, as before.

A bad record is a 422 whose `error` names the field ("customer_nme: unknown field …",
"nothing to match on: give at least one of customer_name, …").

Splink costs about 100 ms a call even on a few thousand records, so the check does not
call it per record. At start-up `Checker` reads a snapshot of the store into memory:

- the standardized columns the model compares, each record's entity and its value
  frequencies (term frequencies, as Splink computes them over the same `records`);
- one index per blocking rule of the config (`model.blocking_rules`): 64 bits of the md5
  of the rule's key values for every record, sorted, beside the record's row. A probe's
  plain-column keys are hashed in Python; other expressions (`substr(name_core, 1, 2)`)
  are evaluated by DuckDB, so they mean what they mean in the batch job. A lookup is a
  binary search;
- the model's comparisons as Splink itself renders them: one `CASE` per comparison (the
  level conditions, in order) and each level's match weight and term-frequency terms.

A check then standardizes the record with the pure standardizers (no DuckDB round trip),
hashes its blocking keys, gathers the records sharing a key (rarer keys first, at most
`max_candidates`; a key shared by more than `max_block` records is skipped), evaluates the
comparison levels on those rows in one query on a small in-memory DuckDB connection, and
adds up the match weights in Python the way Splink's predict SQL does (prior + level
weights + term-frequency adjustments; then the model's calibrator, if it has one). A pair
of stored records gets the batch job's match weight and probability (tests/test_check.py
checks both ways). Candidates are grouped by entity; an entity scores as its best record.
A `link_only` model is applied to every candidate, whatever its source system.

That query's cost is mostly per execution (~3 ms at 185k records, whether it scores 4
rows or 40), so `er check serve` scores the requests that arrive together in one
execution (`_Batcher`, `Checker.check_many`): at 20 concurrent clients it answered 2.3x
the requests per second of one query per request (benchmarks/load.py).

The snapshot is read once and the store is closed again, so jobs can keep writing it;
it does not see records entered since the last job. `Checker.reload()` swaps in a fresh
snapshot; a running server's `Watcher` calls it by itself when a new job is committed,
and reads the tokens again whenever the store file changes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import math
import re
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from fastapi import Query, Request  # here, not in create_app: FastAPI resolves annotations here
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from resolution import crypto, tokens
from resolution.config import CANONICAL_FIELDS, Config
from resolution.db import columns, quote_ident, quote_literal, rows, scalar
from resolution.errors import InputError, ModelError, ResolutionError
from resolution.review import auth
from resolution.review.mask import mask_row
from resolution.review.store_access import ensure_schema
from resolution.store import attach_store, connect_store

# Fields a check needs at least one of: without them there is nothing to block on.
IDENTIFYING_FIELDS = ("customer_name", "uscc", "id_card", "mobile", "phone", "email")
# Golden-record columns never sent to a data-entry form.
HIDDEN_ENTITY_COLUMNS = ("lineage",)
MAX_FIELD_LENGTH = 500
# What of a candidate's golden record is masked (Checker.check)
MASKS = ("id_card", "personal", "none")

# ---------------------------------------------------------------------------------------
# The request and the answer (pydantic: FastAPI validates with them and documents them)
# ---------------------------------------------------------------------------------------


def _as_text(v: Any) -> Any:
    # A form may send a mobile or an ID as a JSON number; a float would lose digits.
    # ValueError, not TypeError: pydantic turns only ValueError into a field error (a 422)
    if isinstance(v, bool):
        raise ValueError("expected text, got true/false")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        raise ValueError("send numbers such as phone numbers or IDs as text")
    return v


Text = Annotated[
    Annotated[str, Field(max_length=MAX_FIELD_LENGTH)] | None, BeforeValidator(_as_text)
]


class CheckRecord(BaseModel):
    """One customer as typed into a form: canonical field names, every value text."""

    model_config = ConfigDict(extra="forbid")

    record_id: Text = None
    source_system: Text = None
    customer_name: Text = None
    customer_type: Text = None
    uscc: Text = None
    contact_name: Text = None
    mobile: Text = None
    phone: Text = None
    email: Text = None
    province: Text = None
    city: Text = None
    district: Text = None
    address: Text = None
    id_card: Text = None
    updated_at: Text = None

    @model_validator(mode="after")
    def _something_to_match_on(self) -> CheckRecord:
        if not any((getattr(self, f) or "").strip() for f in IDENTIFYING_FIELDS):
            raise ValueError(
                "nothing to match on: give at least one of " + ", ".join(IDENTIFYING_FIELDS)
            )
        return self


class FieldEvidence(BaseModel):
    comparison: str  # the model's comparison, e.g. "mobile"
    level: str  # its level's label, e.g. "same number"
    match_weight: float  # log2 Bayes factor, term-frequency adjustment included


class Candidate(BaseModel):
    entity_id: str | None
    match_probability: float
    match_weight: float
    record_id: str  # the entity's member record that matched best
    source_system: str | None
    likely_duplicate: bool  # match_probability >= the config's thresholds.match
    matched_fields: list[FieldEvidence]  # evidence for (weight > 0), strongest first
    differing_fields: list[FieldEvidence]  # evidence against (weight < 0)
    entity: dict[str, Any]  # the golden record's display fields


class CheckResult(BaseModel):
    likely_duplicate: bool
    candidates: list[Candidate]
    candidates_scored: int  # store records scored against the input
    standardized: dict[str, Any]  # the input's blocking keys, as the store holds them
    snapshot: dict[str, Any]  # which store and job the answer comes from
    elapsed_ms: float


# ---------------------------------------------------------------------------------------
# Standardizing one record: the pure twin of standardize_table's column mapping
# ---------------------------------------------------------------------------------------


def standardize_record(raw: dict[str, Any]) -> dict[str, Any]:
    """The standardized columns (`standardize.STD_COLUMNS`) of one raw record, computed
    with the pure standardizers through the one column mapping `standardize_table` renders
    as SQL (`standardize.columns`), after ingest's trim of spaces and empty-to-NULL.
    tests/test_check.py checks they agree."""
    from resolution.standardize.columns import JOINS, LOOKUPS, record_columns

    def get(field: str) -> str | None:
        v = raw.get(field)
        if v is None:
            return None
        v = str(v).strip(" ")
        return v or None

    results = {
        alias: LOOKUPS[key].fn(*(get(f) for f in fields))
        for alias, (key, fields) in JOINS.items()
    }
    return record_columns(results)


# ---------------------------------------------------------------------------------------
# The model, as Splink renders and weighs it
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Level:
    label: str
    is_null: bool
    weight: float
    tf_column: str | None = None  # term-frequency adjusted on this column
    tf_weight: float = 0.0
    tf_min_u: float = 0.0
    log2_u_exact: float = 0.0  # log2 u of the exact-match level the adjustment replaces


@dataclass(frozen=True)
class _Comparison:
    name: str
    case_sql: str  # CASE ... END AS gamma_<name>, as in Splink's predict SQL
    levels: dict[int, _Level]  # by comparison vector value (gamma)


@dataclass(frozen=True)
class _Model:
    prior_weight: float
    comparisons: list[_Comparison]
    columns: list[str]  # input columns the level conditions read
    tf_columns: list[str]


def _prior_weight(lam: float) -> float:
    """A prior probability as a match weight (log2 odds), as Splink computes it."""
    return math.log2(lam / (1 - lam))


def _without_prior(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k != "probability_two_random_records_match"}


def _parse_model(settings: dict[str, Any]) -> _Model:
    """Read the trained settings through Splink's own objects, so the SQL conditions,
    default m/u, clamps and the term-frequency formula are Splink's, not a copy."""
    from splink.internals.settings_creator import SettingsCreator

    try:
        core = SettingsCreator.from_path_or_dict(settings).get_settings("duckdb")
    except Exception as exc:  # Splink raises many kinds on a malformed settings dict
        raise ModelError(f"the model's Splink settings cannot be read: {exc}") from exc
    core = core.core_model_settings
    comparisons, columns, tf_columns = [], [], []
    for comp in core.comparisons:
        levels = {}
        for lv in comp.comparison_levels:
            weight = 0.0 if lv.is_null_level else (lv._match_weight or 0.0)
            extra: dict[str, Any] = {}
            if (
                lv._has_tf_adjustments
                and lv._tf_adjustment_weight != 0
                and not lv.is_null_level
                and not lv._is_else_level
            ):
                col = lv._tf_adjustment_input_column_name
                u = lv._u_probability_corresponding_to_exact_match(comp.comparison_levels)
                extra = {
                    "tf_column": col,
                    "tf_weight": float(lv._tf_adjustment_weight),
                    "tf_min_u": float(lv._tf_minimum_u_value),
                    "log2_u_exact": math.log2(u),
                }
                if col not in tf_columns:
                    tf_columns.append(col)
            levels[lv.comparison_vector_value] = _Level(
                label=lv.label_for_charts or lv.sql_condition[:40],
                is_null=lv.is_null_level,
                weight=weight,
                **extra,
            )
        for col in comp._input_columns_used_by_case_statement:
            name = col.unquote().name
            if name not in columns:
                columns.append(name)
        comparisons.append(
            _Comparison(name=comp.output_column_name, case_sql=comp._case_statement, levels=levels)
        )
    return _Model(
        prior_weight=_prior_weight(core.probability_two_random_records_match),
        comparisons=comparisons,
        columns=columns,
        tf_columns=tf_columns,
    )


def _probability(weight: float) -> float:
    """Splink's 1 / (1 + 2^-w), written so neither side overflows."""
    if weight >= 0:
        return 1.0 / (1.0 + 2.0 ** (-weight))
    b = 2.0**weight
    return b / (1.0 + b)


# ---------------------------------------------------------------------------------------
# Key indexes: sorted hashes of blocking keys beside the rows that hold them
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _KeyIndex:
    name: str  # "name_core", "city_std & addr_road & addr_number"
    exprs: list[str]
    hashes: np.ndarray  # uint64, sorted
    rows: np.ndarray  # int32, the record row of each hash

    def span(self, h: int) -> tuple[int, int]:
        key = np.uint64(h)
        return (
            int(np.searchsorted(self.hashes, key, "left")),
            int(np.searchsorted(self.hashes, key, "right")),
        )


_SEP = "\x1f"  # joins a rule's key values before hashing (unit separator)
_RX_PLAIN = re.compile(r'^"?([A-Za-z_]\w*)"?$')


def _key_sql(exprs: list[str]) -> str:
    """The first 64 bits of md5 of the rule's key values, NULL when any key is NULL (a
    NULL never blocks). md5, not DuckDB's hash(), so Python computes the same number for
    a probe (`_key_hash`) without a query."""
    not_null = " AND ".join(f"({e}) IS NOT NULL" for e in exprs)
    joined = ", ".join(f"CAST({e} AS VARCHAR)" for e in exprs)
    return (
        f"CASE WHEN {not_null} THEN ('0x' || md5(concat_ws(chr(31), {joined}))[1:16])::UBIGINT END"
    )


def _key_hash(values: list[str | None]) -> int | None:
    if any(v is None for v in values):
        return None
    digest = hashlib.md5(_SEP.join(values).encode("utf-8")).hexdigest()
    return int(digest[:16], 16)


def _expr_columns(expr: str) -> list[str]:
    """The columns a blocking expression reads (`substr(name_core, 1, 2)` -> name_core)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(expr, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise ModelError(f"blocking rule expression '{expr}' is not valid SQL: {exc}")
    return sorted({c.name for c in tree.find_all(exp.Column)})


def _build_index(con: duckdb.DuckDBPyConnection, name: str, exprs: list[str]) -> _KeyIndex:
    arr = con.execute(
        f"SELECT h, _row FROM (SELECT {_key_sql(exprs)} AS h, _row FROM recs) "
        "WHERE h IS NOT NULL ORDER BY h"
    ).fetchnumpy()
    return _KeyIndex(
        name=name,
        exprs=exprs,
        hashes=np.asarray(arr["h"], dtype=np.uint64),
        rows=np.asarray(arr["_row"], dtype=np.int32),
    )


# ---------------------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------------------


def _jsonable(v: Any) -> Any:
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


def _mask_id_card(v: Any) -> Any:
    # a resident ID number of another customer is not for a sales form: keep the region
    # and the last four characters, enough to tell two people apart on the phone
    if isinstance(v, str) and len(v) > 8:
        return v[:3] + "*" * (len(v) - 7) + v[-4:]
    return v


# One record per family of paths through the standardizers: Chinese company and contact,
# Latin-alphabet names and places, traditional characters, a person with an ID card.
_WARM_UP = (
    {
        "customer_name": "华联超市(上海)有限公司",
        "customer_type": "企业",
        "uscc": "91310115MA1H7GQ05X",
        "contact_name": "徐 一静",
        "mobile": "138 0013 8000",
        "phone": "76724912",
        "email": "Sales@HuaLian.cn",
        "province": "上海",
        "city": "上海市",
        "district": "浦东新区",
        "address": "浦东新区科苑路八十八号3栋2单元501室",
        "updated_at": "2024-05-06 10:08:59",
    },
    {
        "customer_name": "Tengsheng Huancheng Store Co., Ltd.",
        "customer_type": "company",
        "contact_name": "Mr. Wei Zhang",
        "mobile": "+86 152-4539-7436",
        "phone": "+86 931 2466 4084 ext. 12",
        "email": "CAIWU@TENGSHENG.CN",
        "province": "Gansu Province",
        "city": "Lanzhou",
        "address": "No. 12 Minzhu Road",
        "updated_at": "06/05/2024",
    },
    {
        "customer_name": "陳美玲",
        "customer_type": "個人",
        "id_card": "11010519491231002X",
        "phone": "(02) 2345-6789 轉 123",
        "province": "臺灣",
        "address": "台北市信義區松仁路100號",
        "updated_at": "2024年5月6日",
    },
)


@dataclass(frozen=True)
class CheckRequest:
    """One record to check, with how to answer it (see `Checker.check`)."""

    record: CheckRecord | dict[str, Any]
    top_k: int = 3
    min_probability: float | None = None
    mask: str = "id_card"


class Checker:
    """An in-memory snapshot of a store, ready to check records against it.

    Thread-safe: checks are serialised on one lock (each takes a few milliseconds), and a
    reload builds the new snapshot aside and swaps it in.
    """

    def __init__(
        self,
        store_path: str | Path,
        settings: dict[str, Any],
        config: Config,
        calibration: dict[str, Any] | None = None,
        model_reference: str = "",
        max_candidates: int = 200,
        max_block: int = 5000,
        tf_tables: dict[str, Any] | None = None,
    ):
        self.store_path = Path(store_path)
        self.config = config
        self.model_reference = model_reference
        self.max_candidates = max_candidates
        self.max_block = max_block
        self._model = _parse_model(settings)
        self._settings = settings
        # the model's term frequencies from its training records (value -> share), as the
        # batch job scores with them (resolution.predict); a column without a table is
        # counted in the store's records
        self.tf_tables = tf_tables or {}
        self._tf_lookup: dict[str, dict[Any, float]] = {
            c: dict(zip(t.column(c).to_pylist(), t.column(f"tf_{c}").to_pylist()))
            for c, t in (tf_tables or {}).items() if c in self._model.tf_columns
        }
        self._calibrator = None
        if calibration:
            from resolution.model.calibration import Calibrator

            self._calibrator = Calibrator.from_dict(calibration)
        self._rules = [list(r) for r in config.model.blocking_rules]
        self._lock = threading.Lock()
        self._con = crypto.connect({"threads": 1})
        self._score_sql = (
            "SELECT " + ", ".join(c.case_sql for c in self._model.comparisons) + " FROM _cands"
        )
        self._probe_cols = sorted(
            set(self._model.columns) | set(self._model.tf_columns) | self._rule_columns()
        )
        self._current: _CurrentRows | None = None
        self._probe: pa.Schema | None = None  # the columns `_keys` reads, typed
        self._probe_types: list[str] = []
        self._snap: _Snapshot = _load_snapshot(self)
        self._prepare(self._snap)
        # first calls load the standardizers' dictionaries (100-160 ms on a cold path,
        # measured) and DuckDB's functions: pay that here, not in a sales rep's form
        for record in _WARM_UP:
            self.check(record)

    def _rule_columns(self) -> set[str]:
        return {c for rule in self._rules for expr in rule for c in _expr_columns(expr)}

    @classmethod
    def from_reference(
        cls, store_path: str | Path, model: str, config: Config, **kwargs: Any
    ) -> Checker:
        """Load the model (registry URI, run ID or settings JSON) and the store snapshot."""
        from resolution.model.loading import resolve_model

        loaded = resolve_model(model)
        return cls(
            store_path,
            loaded.settings,
            config,
            calibration=loaded.calibration,
            model_reference=model,
            tf_tables=loaded.tf_tables,
            **kwargs,
        )

    def reload(self) -> dict[str, Any]:
        """Read the store again (after a job) and swap the new snapshot in."""
        snap = _load_snapshot(self)
        with self._lock:
            self._prepare(snap)
            self._snap = snap
        return self.snapshot_info()

    def _prepare(self, snap: _Snapshot) -> None:
        """Plan the check's two queries once: planning the comparisons' CASEs costs 3-5 ms
        and running them on 200 rows about 1 ms (measured).
        - `_score` reads an Arrow stream registered once, whose rows each check swaps
          (registering a new table per check would invalidate the plan): `_cands`, the
          probe and candidate columns, `<col>_l` and `<col>_r`.
        - `_keys` takes the probe's columns its blocking expressions read as parameters
          (one row: an `EXECUTE` with literals took 0.1-0.4 ms where scanning a one-row
          Arrow stream took 1-2.5 ms, measured at 185k records)."""
        if snap.job_lambda:  # score as the job that built the store did
            self._model = replace(self._model, prior_weight=_prior_weight(snap.job_lambda))
        cands = pa.schema(
            [
                pa.field(f"{c}{side}", snap.table.schema.field(c).type)
                for c in self._model.columns
                for side in ("_l", "_r")
            ]
        )
        if self._current is not None and self._probe is not None:
            if self._current.schema == cands and self._probe == snap.expr_schema:
                return
            self._con.execute("DEALLOCATE _score")
            self._con.unregister("_cands")
            if self._probe.names:
                self._con.execute("DEALLOCATE _keys")
        self._current = _CurrentRows(cands)
        self._con.register("_cands", self._current)
        self._con.execute("PREPARE _score AS " + self._score_sql)
        self._probe = snap.expr_schema
        if snap.exprs:
            params = ", ".join(f"${i} AS {quote_ident(c)}"
                               for i, c in enumerate(snap.expr_schema.names, 1))
            self._con.execute(
                f"PREPARE _keys AS SELECT {', '.join(snap.exprs)} FROM (SELECT {params})")
            self._probe_types = _duckdb_types(self._con, snap.expr_schema)

    def close(self) -> None:
        self._con.close()

    def snapshot_info(self) -> dict[str, Any]:
        s = self._snap
        return {
            "store": str(self.store_path),
            "job_id": s.job_id,
            "records": s.n_records,
            "entities": s.entities.num_rows,
            "loaded_at": s.loaded_at,
            "model": self.model_reference,
            "model_matches_store": s.model_matches_store,
        }

    # -- the check ---------------------------------------------------------------------

    def check(
        self,
        record: CheckRecord | dict[str, Any],
        top_k: int = 3,
        min_probability: float | None = None,
        mask: str = "id_card",
    ) -> CheckResult:
        """The store's entities `record` most likely belongs to, best first.

        Entities whose best record scores below `min_probability` (default: the config's
        `thresholds.keep_pairs`) are left out. `mask` says what of the candidates' golden
        records is masked: `id_card` (the ID number only, `er check`), `personal` (phones,
        e-mails and ID numbers, a `check` token) or `none` (a `check_full` token).
        """
        answer = self.check_many([CheckRequest(record, top_k, min_probability, mask)])[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def check_many(self, requests: list[CheckRequest]) -> list[CheckResult | Exception]:
        """`check` for several records at once, in one scoring query: each answer as
        `check` gives it, or the error its request raised (a bad record or mask fails
        only its own request). The query's cost is mostly per execution, not per row
        (~3 ms for one probe's few candidates at 185k records, measured), so a server
        that scores the requests waiting together answers more of them per second."""
        t0 = time.perf_counter()
        answers: dict[int, CheckResult | Exception] = {}
        ready: list[tuple[int, CheckRequest, CheckRecord, dict[str, Any]]] = []
        for i, req in enumerate(requests):
            try:
                if req.mask not in MASKS:
                    raise ValueError(f"mask is one of {', '.join(MASKS)}, not {req.mask!r}")
                record = req.record if isinstance(req.record, CheckRecord) else parse_record(
                    req.record)
                ready.append((i, req, record, standardize_record(record.model_dump())))
            except (InputError, ValueError) as exc:
                answers[i] = exc
        with self._lock:
            snap = self._snap
            scored = self._score(snap, [(std, rec.record_id, None) for _i, _q, rec, std in ready])
        keys = sorted(set(self._probe_cols))
        info = self.snapshot_info()
        for (i, req, _record, std), sc in zip(ready, scored):
            floor = (self.config.thresholds.keep_pairs if req.min_probability is None
                     else req.min_probability)
            candidates = self._candidates(snap, sc, req.top_k, floor, req.mask)
            answers[i] = CheckResult(
                likely_duplicate=any(c.likely_duplicate for c in candidates),
                candidates=candidates,
                candidates_scored=len(sc.record_ids),
                standardized={k: std.get(k) for k in keys},
                snapshot=info,
                elapsed_ms=round((time.perf_counter() - t0) * 1000, 2),
            )
        return [answers[i] for i in range(len(requests))]

    def score_records(
        self, record: CheckRecord | dict[str, Any], record_ids: list[str] | None = None
    ) -> dict[str, dict[str, float]]:
        """Match weight and probability of `record` against each stored record in
        `record_ids`, or else against every record its blocking keys find: per pair, what
        the batch job gives it (record_id -> {match_weight, match_probability})."""
        if not isinstance(record, CheckRecord):
            record = parse_record(record)
        std = standardize_record(record.model_dump())
        snap = self._snap
        rows_ = None
        if record_ids is not None:
            ids = snap.table.column("record_id")
            mask = pc.is_in(ids, value_set=pa.array(record_ids, pa.string()))
            rows_ = np.flatnonzero(mask.to_numpy(zero_copy_only=False)).astype(np.int32)
        with self._lock:
            scored = self._score(snap, [(std, record.record_id, rows_)])[0]
        return {
            rid: {"match_weight": w, "match_probability": p}
            for rid, w, p in zip(scored.record_ids, scored.weights, scored.probabilities)
        }

    def _probe_keys(self, snap: _Snapshot, std: dict[str, Any]) -> list[int | None]:
        """The probe's key hash per blocking rule. Plain text columns are read from the
        standardized record; other expressions (`substr(name_core, 1, 2)`) are evaluated
        by DuckDB, in one small query, so they mean what they mean in the batch job."""
        computed: list = []
        if snap.exprs:
            # the probe's values as literals of their exact types (a parameter of another
            # type makes DuckDB plan the statement again)
            args = ", ".join(f"CAST({_literal(std.get(c))} AS {t})"
                             for c, t in zip(snap.expr_schema.names, self._probe_types))
            computed = list(self._con.execute(f"EXECUTE _keys({args})").fetchall()[0])
        values = iter(computed)
        out = []
        for rule in self._rules:
            keys = []
            for expr in rule:
                col = snap.plain.get(expr)
                if col is not None:
                    v = std.get(col)
                    keys.append(None if v is None else str(v))
                else:
                    keys.append(next(values))
            out.append(_key_hash(keys))
        return out

    def _gather(self, snap: _Snapshot, probe_hashes: list) -> np.ndarray:
        """Rows sharing a blocking key with the probe, the most specific first, capped.

        A row's priority is the sum over the rules it shares of log(N / block size): one
        shared USCC outweighs a shared common name, two shared keys outweigh one."""
        parts, weights = [], []
        n = max(snap.n_records, 1)
        for idx, h in zip(snap.indexes, probe_hashes):
            if h is None:
                continue
            lo, hi = idx.span(h)
            size = hi - lo
            if size == 0 or size > self.max_block:
                continue
            parts.append(idx.rows[lo:hi])
            weights.append(np.full(size, math.log(n / size) + 1e-6))
        if not parts:
            return np.empty(0, dtype=np.int32)
        allrows = np.concatenate(parts)
        uniq, inv = np.unique(allrows, return_inverse=True)
        if len(uniq) <= self.max_candidates:
            return uniq
        prio = np.bincount(inv, weights=np.concatenate(weights))
        keep = np.argpartition(-prio, self.max_candidates - 1)[: self.max_candidates]
        return uniq[keep]

    def _score(
        self,
        snap: _Snapshot,
        probes: list[tuple[dict[str, Any], str | None, np.ndarray | None]],
    ) -> list[_Scored]:
        """Score each probe (standardized record, its record_id or None, the rows to
        score or None: those its blocking keys gather) against its rows as Splink's
        predict would: prior + each comparison's level weight + term-frequency adjustment.
        All probes' pairs go through one execution of the `_score` statement."""
        model = self._model
        picked: list[tuple[dict[str, Any], pa.Table]] = []
        sides: list[list[pa.Array]] = [[] for _ in range(2 * len(model.columns))]
        for std, probe_id, rows_ in probes:
            if rows_ is None:
                rows_ = self._gather(snap, self._probe_keys(snap, std))
            cands = snap.table.take(pa.array(rows_, pa.int32()))
            if probe_id is not None:  # the record itself, when re-checking a stored one
                keep = pc.not_equal(cands.column("record_id"), probe_id)
                cands = cands.filter(pc.fill_null(keep, True))
            picked.append((std, cands))
            n = cands.num_rows
            if n == 0:
                continue
            # Splink orients a dedupe pair by record_id (l < r); some level conditions
            # (shared characters over the longer name) are not symmetric: orient alike.
            swap = (None if probe_id is None
                    else pc.less(cands.column("record_id").combine_chunks(),
                                 pa.scalar(probe_id, pa.string())))
            for k, c in enumerate(model.columns):
                cand_col = cands.column(c).combine_chunks()
                probe_col = pa.array([std.get(c)] * n, type=cand_col.type)
                if swap is None:
                    left, right = probe_col, cand_col
                else:
                    left = pc.if_else(swap, cand_col, probe_col)
                    right = pc.if_else(swap, probe_col, cand_col)
                sides[2 * k].append(left)
                sides[2 * k + 1].append(right)
        gammas: list[tuple] = []
        if sides[0]:
            current = self._current
            current.table = pa.Table.from_arrays([pa.concat_arrays(a) for a in sides],
                                                 schema=current.schema)
            try:
                gammas = self._con.execute("EXECUTE _score").fetchall()
            finally:
                current.table = current.schema.empty_table()
        out, at = [], 0
        for std, cands in picked:
            n = cands.num_rows
            out.append(self._weigh(snap, std, cands, gammas[at:at + n]))
            at += n
        return out

    def _weigh(
        self, snap: _Snapshot, std: dict[str, Any], cands: pa.Table, gammas: list[tuple]
    ) -> _Scored:
        """Match weights and probabilities of one probe's pairs from their levels."""
        model = self._model
        if cands.num_rows == 0:
            return _Scored(cands, [], [], [], [])
        # term frequencies: the probe's value's share of the store's records, and each
        # candidate's own; Splink takes the larger of the two (coalescing a missing one)
        probe_tf = {}
        for c in model.tf_columns:
            if c in self._tf_lookup:
                probe_tf[c] = self._tf_lookup[c].get(std.get(c))
                continue
            h = _key_hash([std.get(c)])
            lo, hi = snap.tf_indexes[c].span(h) if h is not None else (0, 0)
            probe_tf[c] = (hi - lo) / snap.tf_totals[c] if hi > lo else None
        cand_tf = {c: cands.column(f"tf_{c}").to_pylist() for c in model.tf_columns}

        weights, evidence = [], []
        for j, g in enumerate(gammas):
            total = model.prior_weight
            per = []
            for comp, gamma in zip(model.comparisons, g):
                lv = comp.levels.get(gamma)
                if lv is None:  # a comparison without an ELSE level gives NULL: no evidence
                    continue
                w = lv.weight
                if lv.tf_column:
                    a, b = probe_tf.get(lv.tf_column), cand_tf[lv.tf_column][j]
                    if a is not None or b is not None:
                        u = max(a if a is not None else b, b if b is not None else a, lv.tf_min_u)
                        w += lv.tf_weight * (lv.log2_u_exact - math.log2(u))
                total += w
                if not lv.is_null:
                    per.append((comp.name, lv.label, w))
            weights.append(total)
            evidence.append(per)
        probs = [_probability(w) for w in weights]
        if self._calibrator is not None:
            probs = [float(x) for x in self._calibrator(probs)]
        return _Scored(cands, cands.column("record_id").to_pylist(), weights, probs, evidence)

    def _candidates(
        self, snap: _Snapshot, scored: _Scored, top_k: int, floor: float, mask: str
    ) -> list[Candidate]:
        """Group the scored records by entity (an entity scores as its best record) and
        describe the best `top_k` at or above `floor`."""
        if not scored.record_ids:
            return []
        erows = scored.cands.column("_erow").to_pylist()
        sources = scored.cands.column("source_system").to_pylist()
        best: dict[Any, int] = {}
        for j, e in enumerate(erows):
            key = e if e is not None else ("record", j)
            if key not in best or scored.weights[j] > scored.weights[best[key]]:
                best[key] = j
        order = sorted(best.values(), key=lambda j: -scored.weights[j])
        threshold = self.config.thresholds.match
        out = []
        for j in order:
            p = scored.probabilities[j]
            if p < floor or len(out) >= top_k:
                break
            matched, differing = [], []
            for comp_name, label, w in scored.evidence[j]:
                ev = FieldEvidence(comparison=comp_name, level=label, match_weight=round(w, 3))
                if w > 0:
                    matched.append(ev)
                elif w < 0:
                    differing.append(ev)
            matched.sort(key=lambda e: -e.match_weight)
            differing.sort(key=lambda e: e.match_weight)
            entity = snap.entity(erows[j], mask)
            out.append(
                Candidate(
                    entity_id=entity.get("entity_id"),
                    match_probability=round(p, 6),
                    match_weight=round(scored.weights[j], 4),
                    record_id=scored.record_ids[j],
                    source_system=sources[j],
                    likely_duplicate=p >= threshold,
                    matched_fields=matched,
                    differing_fields=differing,
                    entity=entity,
                )
            )
        return out


class _CurrentRows:
    """The rows the check under way scores, exported as an Arrow stream (the PyCapsule
    protocol): DuckDB reads the current table each time the prepared statement runs."""

    def __init__(self, schema: pa.Schema):
        self.schema = schema
        self.table = schema.empty_table()

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self.table.__arrow_c_stream__(requested_schema)


def _literal(v: Any) -> str:
    """`v` (a standardized value) as a DuckDB literal, CAST to its column's type where it
    is used."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return quote_literal(v.isoformat())
    return quote_literal(str(v))


def _duckdb_types(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> list[str]:
    """DuckDB's name for the type of each field of `schema`, as CAST takes it."""
    con.register("_schema_probe", schema.empty_table())
    try:
        return [str(t) for t in con.sql("SELECT * FROM _schema_probe").types]
    finally:
        con.unregister("_schema_probe")


@dataclass(frozen=True)
class _Scored:
    cands: pa.Table  # the scored store rows
    record_ids: list[str]
    weights: list[float]  # match weight of each pair, as Splink's predict computes it
    probabilities: list[float]  # calibrated when the model has a calibrator
    evidence: list[list[tuple[str, str, float]]]  # (comparison, level label, weight)


@dataclass
class _Snapshot:
    table: pa.Table  # one row per stored record: record_id, source_system, _erow, columns, tf_*
    entities: pa.Table  # golden records (display columns), row = _erow
    indexes: list[_KeyIndex]  # one per blocking rule, in config order
    tf_indexes: dict[str, _KeyIndex]
    tf_totals: dict[str, int]
    n_records: int
    job_id: str | None
    loaded_at: str
    model_matches_store: bool | None
    job_lambda: float | None  # the prior the store's latest job used, when its model is ours
    plain: dict[str, str]  # blocking expressions that are a text column: expr -> column
    exprs: list[str]  # the other expressions, as text, in rule order
    expr_schema: pa.Schema  # the columns they read

    def entity(self, erow: int | None, mask: str = "id_card") -> dict[str, Any]:
        if erow is None:
            return {}
        row = self.entities.slice(erow, 1).to_pylist()[0]
        row.pop("_erow", None)
        if mask == "personal":
            row = mask_row(row)  # as the review app masks them for a viewer
        elif mask == "id_card" and "id_card" in row:
            row["id_card"] = _mask_id_card(row["id_card"])
        return _jsonable(row)


def _load_snapshot(checker: Checker) -> _Snapshot:
    """Copy what the check needs out of the store into memory; close the store."""
    path = checker.store_path
    if not path.exists():
        raise ResolutionError(f"store not found: {path} (run `er dedup` first)")
    model = checker._model
    con = crypto.connect()
    try:
        # the store's own policy: encryption refusal, waiting briefly while a job commits
        attach_store(con, path, "st", read_only=True)
        have = {
            r[0]
            for r in rows(con, "SELECT table_name FROM duckdb_tables() WHERE database_name = 'st'")
        }
        missing = {"records", "crosswalk", "entities"} - have
        if missing:
            raise ResolutionError(
                f"store {path} has no {', '.join(sorted(missing))} table yet; run `er dedup` first"
            )
        rec_cols = {r[0]: r[1] for r in rows(con, "DESCRIBE st.records")}
        needed = checker._probe_cols
        lacking = [c for c in needed if c not in rec_cols]
        if lacking:
            raise ModelError(
                f"the store's records lack column(s) {', '.join(lacking)} that the model or "
                "the config's blocking rules use; re-run `er dedup` with this version"
            )
        job = rows(con, "SELECT job_id, settings FROM st.jobs ORDER BY finished_at DESC LIMIT 1")
        job_id, matches, job_lambda = None, None, None
        if job:
            import json

            job_id = job[0][0]
            if job[0][1]:
                # the same model, its prior λ aside: a job rescales λ to its input's size
                # (model.settings.prior_for_input), and the check then uses the job's λ
                used = json.loads(job[0][1])
                matches = _without_prior(used) == _without_prior(checker._settings)
                if matches:
                    job_lambda = used.get("probability_two_random_records_match")
        ent_cols = [
            quote_ident(c)
            for c in (r[0] for r in rows(con, "DESCRIBE st.entities"))
            if c not in HIDDEN_ENTITY_COLUMNS
        ]
        con.execute(
            f"""CREATE TABLE ents AS SELECT (row_number() OVER (ORDER BY entity_id) - 1)::INTEGER
                AS _erow, {", ".join(ent_cols)} FROM st.entities"""
        )
        cols = ", ".join(f"r.{quote_ident(c)}" for c in needed if c not in ("record_id",))
        con.execute(
            f"""CREATE TABLE recs AS
                SELECT (row_number() OVER (ORDER BY r.record_id) - 1)::INTEGER AS _row,
                       r.record_id, r.source_system AS source_system, e._erow, {cols}
                FROM st.records r
                LEFT JOIN st.crosswalk x ON x.record_id = r.record_id
                LEFT JOIN ents e ON e.entity_id = x.entity_id"""
        )
        con.execute("DETACH st")
        tf_sel = "".join(
            f", count({quote_ident(c)}) OVER (PARTITION BY {quote_ident(c)})::DOUBLE / "
            f"nullif(count({quote_ident(c)}) OVER (), 0) AS {quote_ident('tf_' + c)}"
            for c in model.tf_columns
        )
        keep = ", ".join(
            ["_erow", "record_id", "source_system"] + [quote_ident(c) for c in model.columns]
        )
        table = con.sql(f"SELECT {keep}{tf_sel} FROM recs ORDER BY _row").to_arrow_table()
        table = table.combine_chunks()
        for c, lookup in checker._tf_lookup.items():  # the model's own, as the batch job's
            i = table.schema.get_field_index(f"tf_{c}")
            table = table.set_column(i, f"tf_{c}", pa.array(
                [lookup.get(v) for v in table.column(c).to_pylist()], type=pa.float64()))
        indexes = [_build_index(con, " & ".join(rule), rule) for rule in checker._rules]
        tf_indexes = {c: _build_index(con, c, [quote_ident(c)]) for c in model.tf_columns}
        tf_totals = {c: len(tf_indexes[c].hashes) for c in model.tf_columns}
        entities = con.sql("SELECT * FROM ents ORDER BY _erow").to_arrow_table()
        n = scalar(con, "SELECT count(*) FROM recs")
        plain, exprs, expr_cols = {}, [], []
        for rule in checker._rules:
            for expr in rule:
                m = _RX_PLAIN.match(expr.strip())
                if m and rec_cols.get(m.group(1)) == "VARCHAR":
                    plain[expr] = m.group(1)
                else:
                    exprs.append(f"CAST({expr} AS VARCHAR)")
                    expr_cols += [c for c in _expr_columns(expr) if c not in expr_cols]
        cols = ", ".join(quote_ident(c) for c in expr_cols) or "NULL AS _none"
        expr_schema = con.sql(f"SELECT {cols} FROM recs LIMIT 0").to_arrow_table().schema
        if not expr_cols:
            expr_schema = pa.schema([])
    finally:
        con.close()
    return _Snapshot(
        table=table,
        entities=entities,
        indexes=indexes,
        tf_indexes=tf_indexes,
        tf_totals=tf_totals,
        n_records=int(n),
        job_id=job_id,
        loaded_at=time.strftime("%Y-%m-%d %H:%M:%S"),
        model_matches_store=matches,
        job_lambda=job_lambda,
        plain=plain,
        exprs=exprs,
        expr_schema=expr_schema,
    )


# ---------------------------------------------------------------------------------------
# Input helpers for the CLI
# ---------------------------------------------------------------------------------------


def parse_record(data: Any) -> CheckRecord:
    """Validate one record (a dict or a JSON object text); a bad one is an InputError
    naming the field."""
    import json

    from pydantic import ValidationError

    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InputError(f"--record is not valid JSON: {exc}")
    if not isinstance(data, dict):
        raise InputError("a record must be a JSON object of field: value")
    try:
        return CheckRecord.model_validate(data)
    except ValidationError as exc:
        raise InputError("bad record: " + validation_message(exc))


def validation_message(exc: Any) -> str:
    """One line per problem: `field: what is wrong` (pydantic errors, FastAPI's too)."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",))
        msg = err.get("msg", "")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field; expected one of " + ", ".join(CANONICAL_FIELDS)
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def read_records(
    path: str | Path, config: Config, encoding: str | None = None, sheet: str | None = None
) -> list[dict]:
    """Records of a small file (CSV, Excel, Parquet), columns mapped as ingest maps them;
    no record_id needed. A field Excel stored as a number too long for it is refused."""
    from resolution.ingest import (
        EXCEL_NUMBER_COLUMN,
        EXCEL_NUMBER_REASON,
        _mapping_sql,
        _resolve_columns,
        check_sheet_option,
        read_input,
    )

    p = Path(path)
    check_sheet_option([p], sheet)
    con = crypto.connect()
    try:
        read_input(con, p, "_check_input", encoding or config.source.encoding, sheet)
        n = scalar(con, "SELECT count(*) FROM _check_input")
        if n > 1000:
            raise InputError(
                f"{p}: {n:,} records; `er check` is for a few records at data entry, "
                "use `er dedup` for a file this size"
            )
        # a form's records have no ID or source system yet: those columns may be absent
        present = {c.strip().lower() for c in columns(con, "_check_input")}
        mapping = {
            k: v
            for k, v in config.source.columns.items()
            if k not in ("record_id", "source_system") or v.strip().lower() in present
        }
        source = config.source.model_copy(update={"required": [], "columns": mapping})
        cur = con.execute(
            f"SELECT {_mapping_sql(con, '_check_input', source, p)} FROM _check_input"
        )
        names = [d[0] for d in cur.description]
        records = [dict(zip(names, r)) for r in cur.fetchall()]
        if EXCEL_NUMBER_COLUMN in columns(con, "_check_input"):
            used = set(_resolve_columns(con, "_check_input", source, p).values())
            flagged = con.execute(
                f'SELECT "{EXCEL_NUMBER_COLUMN}" FROM _check_input').fetchall()
            for i, ((cols,), _rec) in enumerate(zip(flagged, records), 1):
                hit = [c for c in cols or [] if c in used]
                if hit:
                    raise InputError(f"{p} record {i}: column '{hit[0]}' {EXCEL_NUMBER_REASON}")
        return records
    finally:
        con.close()


def render_text(result: CheckResult, record: dict[str, Any] | None = None) -> str:
    """A short human answer for the terminal."""
    lines = []
    if record:
        shown = ", ".join(f"{k}={v}" for k, v in record.items() if v and k != "record_id")
        lines.append(f"record: {shown}")
    if not result.candidates:
        lines.append("no similar customer in the store")
    for i, c in enumerate(result.candidates, 1):
        e = c.entity
        verdict = "LIKELY DUPLICATE" if c.likely_duplicate else "possible"
        lines.append(
            f"{i}. {c.entity_id}  p={c.match_probability:.4f}  {verdict}  "
            f"{e.get('customer_name') or ''}  {e.get('mobile') or e.get('phone') or ''}  "
            f"{e.get('city') or ''}{e.get('address') or ''}  ({e.get('record_count', '?')} "
            f"records; best match {c.record_id})"
        )
        if c.matched_fields:
            lines.append(
                "   matched: "
                + ", ".join(
                    f"{f.comparison} {f.level} (+{f.match_weight:.1f})" for f in c.matched_fields
                )
            )
        if c.differing_fields:
            lines.append(
                "   differs: "
                + ", ".join(
                    f"{f.comparison} {f.level} ({f.match_weight:.1f})" for f in c.differing_fields
                )
            )
    lines.append(
        f"({result.candidates_scored} store records scored in {result.elapsed_ms:.1f} ms; "
        f"store job {result.snapshot.get('job_id')})"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------


class Watcher:
    """What a running `er check serve` keeps in step with the store: its API tokens, the
    refusals still to log, and the snapshot after a job.

    A thread polls every `poll` seconds. A poll costs two `stat` calls while the store file
    (and its WAL) is unchanged; when it changed, one short read of the store gives the
    tokens and the latest committed job, and a job other than the snapshot's loads a new
    snapshot (`Checker.reload`) that is swapped in whole. A job commits in one transaction
    and a read-only attach cannot overlap a writer, so a half-committed store is never
    read. Requests only read what the thread holds in memory: they never wait on the store.

    Refusals queue here (at most MAX_PENDING) and the thread writes them to `access_log`.
    While the store changed but could not be read for more than `stale_after` seconds (a
    long commit), tokens cannot be confirmed and every request is refused (503).
    """

    MAX_PENDING = 1000

    def __init__(self, checker: Checker, poll: float = 0.25, stale_after: float = 60.0,
                 wait: float = 2.0):
        self.checker = checker
        self.path = checker.store_path
        self.poll = poll
        self.stale_after = stale_after
        self.wait = wait
        self.tokens = tokens.TokenTable()
        self._seen: tuple | None = None  # the file signature the tokens were read at
        self._confirmed = time.monotonic()
        self._pending: list[tuple] = []
        self._dropped = 0
        self._lock = threading.Lock()  # the queue
        self._store_lock = threading.Lock()  # one read of the store at a time
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self._job: str | None = None  # the latest committed job the store showed
        self._retry_at = 0.0  # after a failed reload, when to try again
        self.refresh()

    def _signature(self) -> tuple:
        sig: list[tuple[int, int, int] | None] = []
        for f in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                st = f.stat()
                sig.append((st.st_ino, st.st_size, st.st_mtime_ns))
            except OSError:
                sig.append(None)
        return tuple(sig)

    def refresh(self) -> None:
        """One poll: read tokens and the latest job when the store changed, log queued
        refusals, reload the snapshot after a new job."""
        with self._store_lock:
            self._refresh()

    def reload(self) -> dict[str, Any]:
        """`Checker.reload` now (POST /reload), not overlapping a poll."""
        with self._store_lock:
            return self.checker.reload()

    def _refresh(self) -> None:
        sig = self._signature()  # before reading: a change after it is read next time
        with self._lock:
            pending, self._pending = self._pending, []
            dropped, self._dropped = self._dropped, 0
        if sig != self._seen or pending:
            self._read(sig, pending, dropped)
        else:
            self._confirmed = time.monotonic()
        if self._job != self.checker.snapshot_info()["job_id"]:
            if time.monotonic() < self._retry_at:
                return
            try:
                self.checker.reload()
            except BaseException:
                self._retry_at = time.monotonic() + 10  # not every poll: a reload is heavy
                raise

    def _read(self, sig: tuple, pending: list[tuple], dropped: int) -> None:
        try:
            con = connect_store(self.path, read_only=not pending, wait=self.wait)
            try:
                if pending:
                    ensure_schema(con)  # access_log, as the review app has it
                    for r in pending:
                        auth.log_refusal(con, *r)
                    if dropped:
                        auth.log_refusal(con, None, None, "POST", "/check", 429,
                                         f"{dropped} more refusals not logged (queue full)")
                table = tokens.TokenTable.read(con)
                job = rows(con, "SELECT job_id FROM jobs ORDER BY finished_at DESC LIMIT 1")
            finally:
                con.close()
        except BaseException:
            with self._lock:  # the refusals are logged by a later poll
                self._pending[:0] = pending[: self.MAX_PENDING]
            raise
        self.tokens = table
        self._seen = sig
        self._confirmed = time.monotonic()
        job_id = job[0][0] if job else None
        if job_id != self._job:
            self._job, self._retry_at = job_id, 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            try:
                self.refresh()
                self.last_error = None
            except Exception as exc:  # a busy store, a failed reload: keep serving, retry
                msg = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                if msg != self.last_error:
                    print(f"er check serve: {msg} (retrying)", file=sys.stderr, flush=True)
                self.last_error = msg

    def start(self) -> Watcher:
        self._thread = threading.Thread(target=self._run, daemon=True, name="check-watcher")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.refresh()  # the last refusals
        except Exception:
            pass

    def identify(self, authorization: str | None) -> tokens.Verdict:
        if time.monotonic() - self._confirmed > self.stale_after:
            return tokens.Verdict(503, reason="tokens not confirmed: the store is busy")
        return self.tokens.identify(authorization)

    def refuse(self, verdict: tokens.Verdict, status: int, reason: str, method: str,
               path: str, client: str | None) -> None:
        """Queue a refusal for `access_log`; the thread writes it at its next poll."""
        with self._lock:
            if len(self._pending) < self.MAX_PENDING:
                self._pending.append(
                    (verdict.name, verdict.role, method, path, status, reason, client))
            else:
                self._dropped += 1
        self._wake.set()


# Paths open without a token (no customer data); every other path needs a token, of at
# least the role NEEDS names for it (default `check`), so a route added later is closed.
OPEN_PATHS = frozenset({"/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
NEEDS = {"/reload": "check_admin"}


class _Authorize:
    """ASGI middleware: `Authorization: Bearer <token>` on every path but OPEN_PATHS,
    before the body is read or validated (a request without a token is a 401, whatever it
    carries). The caller's role reaches the route as `request.state.token_role`."""

    def __init__(self, app, watcher: Watcher):
        self.app = app
        self.watcher = watcher

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or path in OPEN_PATHS:
            return await self.app(scope, receive, send)
        needed = NEEDS.get(path, "check")
        header = next((v.decode("latin-1") for k, v in scope.get("headers", ())
                       if k == b"authorization"), None)
        verdict = self.watcher.identify(header)
        status, reason = verdict.status, verdict.reason
        if status == 200 and not tokens.allows(verdict.role, needed):
            status, reason = 403, f"role {verdict.role} may not {scope['method']} {scope['path']}"
        if status != 200:
            from starlette.responses import JSONResponse

            client = scope.get("client")
            self.watcher.refuse(verdict, status, reason, scope["method"], scope["path"],
                                client[0] if client else None)
            headers = {"WWW-Authenticate": 'Bearer realm="er check"'} if status == 401 else {}
            return await JSONResponse({"error": reason}, status_code=status,
                                      headers=headers)(scope, receive, send)
        scope.setdefault("state", {})["token_role"] = verdict.role
        await self.app(scope, receive, send)


class _Batcher:
    """The requests that arrive while the server is busy scoring, scored together.

    The server answers on one event loop, so while it scores one request the others wait
    in their sockets; when it is free again, the loop reads them all and each handler
    queues its request here before this scores the queue in one `Checker.check_many`
    (at most MAX_BATCH at a time). A lone request is scored at once, as before; under
    load the scoring query's per-execution cost is shared by everyone waiting."""

    MAX_BATCH = 32

    def __init__(self, checker: Checker):
        self.checker = checker
        self._waiting: list[tuple[CheckRequest, asyncio.Future]] = []
        self._scheduled = False

    async def check(self, request: CheckRequest) -> CheckResult:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future = loop.create_future()
        self._waiting.append((request, answer))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._run)
        result = await answer
        if isinstance(result, BaseException):
            raise result
        return result

    def _run(self) -> None:
        batch = self._waiting[: self.MAX_BATCH]
        self._waiting = self._waiting[self.MAX_BATCH:]
        self._scheduled = bool(self._waiting)
        if self._scheduled:
            asyncio.get_running_loop().call_soon(self._run)
        try:
            answers: list = self.checker.check_many([r for r, _ in batch])
        except Exception as exc:  # the store or the model failed: every request hears it
            answers = [exc] * len(batch)
        for (_r, fut), a in zip(batch, answers):
            if not fut.done():  # a client that went away cancelled its future
                fut.set_result(a)


def create_app(checker: Checker, watcher: Watcher):
    """The FastAPI app: POST /check (body: one record; any token role), POST /reload (a
    `check_admin` token), GET /health (open)."""
    from fastapi import FastAPI
    from fastapi.encoders import jsonable_encoder
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response

    app = FastAPI(
        title="er check",
        description="Is this customer already in the store? Send the record a sales rep "
        "typed, with `Authorization: Bearer <token>` (`er tokens create`); get the entities "
        "it most likely belongs to.",
    )
    app.add_middleware(_Authorize, watcher=watcher)
    batcher = _Batcher(checker)

    @app.exception_handler(RequestValidationError)
    async def _bad_input(_request: Request, exc: RequestValidationError):
        return JSONResponse(
            status_code=422,
            content={
                "error": "bad record: " + validation_message(exc),
                "detail": jsonable_encoder(exc.errors()),
            },
        )

    @app.exception_handler(ResolutionError)
    async def _user_error(_request: Request, exc: ResolutionError):
        return JSONResponse(status_code=503, content={"error": str(exc)})

    # `async def` on purpose: the check is a few milliseconds of CPU work; run in the
    # event loop (by `_Batcher`, with the requests waiting beside it) it skips the
    # thread-pool hop, which cost ~10 ms a request (two GIL switch intervals) when
    # measured. The answer is serialised once, by the model itself, instead of FastAPI
    # validating it again against `response_model`.
    @app.post("/check", response_model=CheckResult)
    async def check(
        request: Request,
        record: CheckRecord,
        top_k: Annotated[int, Query(ge=1, le=20)] = 3,
        min_probability: Annotated[float | None, Query(ge=0, le=1)] = None,
    ) -> Response:
        full = tokens.allows(request.state.token_role, "check_full")
        result = await batcher.check(CheckRequest(record, top_k, min_probability,
                                                  "none" if full else "personal"))
        return Response(result.model_dump_json(), media_type="application/json")

    @app.post("/reload")
    def reload() -> dict[str, Any]:
        return watcher.reload()

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", **checker.snapshot_info()}

    return app


def settle_heap() -> None:
    """Move everything alive after start-up out of the garbage collector's way.

    The imports (Splink, sqlglot, pandas, …) leave ~350k tracked objects, and a full
    collection walking them took ~250 ms (measured): a check that triggers one would miss
    its latency budget by far. Frozen objects are never collected, which is what they
    are: the process's libraries and its snapshot."""
    import gc

    gc.collect()
    gc.freeze()


def serve(checker: Checker, watcher: Watcher, host: str = "127.0.0.1",
          port: int = 8001) -> None:
    import uvicorn

    settle_heap()
    watcher.start()
    try:
        uvicorn.run(create_app(checker, watcher), host=host, port=port, log_level="warning")
    finally:
        watcher.stop()


# ---------------------------------------------------------------------------------------
# What the CLI calls
# ---------------------------------------------------------------------------------------


def load_checker(store: str | Path, model: str, config_path: str | Path) -> Checker:
    from resolution.config import load_config

    return Checker.from_reference(store, model, load_config(config_path))


def check_command(
    store: str | Path,
    model: str,
    config_path: str | Path,
    record: str | None = None,
    input_path: str | Path | None = None,
    encoding: str | None = None,
    top_k: int = 3,
    sheet: str | None = None,
) -> list[tuple[dict[str, Any], CheckResult]]:
    """`er check`: the records of `--record` (JSON) or `--input` (a small file), each
    with its answer. Records are validated before the store is read."""
    from resolution.config import load_config

    if (record is None) == (input_path is None):
        raise InputError("give one record with --record '{...}' or a small file with --input")
    config = load_config(config_path)
    if record is not None:
        records = [parse_record(record)]
    else:
        raw = read_records(input_path, config, encoding, sheet)
        records = []
        for i, r in enumerate(raw, 1):
            try:
                records.append(parse_record(r))
            except InputError as exc:
                raise InputError(f"{input_path} record {i}: {exc}")
    checker = Checker.from_reference(store, model, config)
    try:
        return [(r.model_dump(exclude_none=True), checker.check(r, top_k=top_k)) for r in records]
    finally:
        checker.close()
