"""The standardizers inside DuckDB: Arrow-vectorised UDFs (``register_udfs``), the worker
process pool for large tables, the cache of standardized values (``_Cache``,
``standardizer_version``) and ``standardize_table``, which runs them once per distinct value and
joins the results back as the standardized columns (``columns``).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa

from resolution import crypto
from resolution.config import FieldConfig
from resolution.errors import ResolutionError
from resolution.standardize import latin
from resolution.standardize.address import parse_address
from resolution.standardize.columns import (
    FIELD_STANDARDIZERS,
    JOINS,
    LOOKUPS,
    field_inputs,
    field_select_sql,
    select_sql,
)
from resolution.standardize.company import company_name
from resolution.standardize.customer import customer_name
from resolution.standardize.dates import parse_datetime
from resolution.standardize.email import parse_email
from resolution.standardize.identifiers import parse_id_card, parse_uscc
from resolution.standardize.person import person_name
from resolution.standardize.person_latin import person_name_latin
from resolution.standardize.phone import parse_phone, phone_sql
from resolution.standardize.text import text_basic

_log = logging.getLogger(__name__)
_RX_NON_WORD = re.compile(r"\W")


# ---------------------------------------------------------------------------------------------
# DuckDB twins
# ---------------------------------------------------------------------------------------------

# UDF name -> (pure function, argument count, [(field, duckdb type, pyarrow type)])
_S, _B, _D = pa.string(), pa.bool_(), pa.date32()
_UDFS: dict[str, tuple] = {
    "std_text": (text_basic, 1, None),
    "std_customer_name": (
        customer_name,
        2,
        [
            ("std", "VARCHAR", _S),
            ("kind", "VARCHAR", _S),
            ("core", "VARCHAR", _S),
            ("region", "VARCHAR", _S),
            ("legal_form", "VARCHAR", _S),
            ("branch", "VARCHAR", _S),
            ("pinyin", "VARCHAR", _S),
        ],
    ),
    "std_person_name": (
        person_name,
        1,
        [
            ("std", "VARCHAR", _S),
            ("surname", "VARCHAR", _S),
            ("given", "VARCHAR", _S),
            ("pinyin", "VARCHAR", _S),
        ],
    ),
    "std_person_name_latin": (
        person_name_latin,
        2,
        [
            ("std", "VARCHAR", _S),
            ("surname", "VARCHAR", _S),
            ("given", "VARCHAR", _S),
            ("given_root", "VARCHAR", _S),
            ("initial", "VARCHAR", _S),
            ("suffix", "VARCHAR", _S),
            ("key", "VARCHAR", _S),
        ],
    ),
    "std_company_name": (
        company_name,
        1,
        [
            ("std", "VARCHAR", _S),
            ("core", "VARCHAR", _S),
            ("region", "VARCHAR", _S),
            ("legal_form", "VARCHAR", _S),
            ("branch", "VARCHAR", _S),
            ("pinyin", "VARCHAR", _S),
        ],
    ),
    "std_phone": (
        parse_phone,
        1,
        [
            ("e164", "VARCHAR", _S),
            ("ext", "VARCHAR", _S),
            ("type", "VARCHAR", _S),
            ("valid", "BOOLEAN", _B),
        ],
    ),
    "std_email": (parse_email, 1, [("std", "VARCHAR", _S), ("valid", "BOOLEAN", _B)]),
    "std_uscc": (parse_uscc, 1, [("std", "VARCHAR", _S), ("valid", "BOOLEAN", _B)]),
    "std_id_card": (
        parse_id_card,
        1,
        [
            ("std", "VARCHAR", _S),
            ("valid", "BOOLEAN", _B),
            ("birth_date", "DATE", _D),
            ("gender", "VARCHAR", _S),
        ],
    ),
    "std_address": (
        parse_address,
        4,
        [
            ("province", "VARCHAR", _S),
            ("city", "VARCHAR", _S),
            ("district", "VARCHAR", _S),
            ("street", "VARCHAR", _S),
            ("road", "VARCHAR", _S),
            ("number", "VARCHAR", _S),
            ("building", "VARCHAR", _S),
            ("room", "VARCHAR", _S),
        ],
    ),
    "std_datetime": (parse_datetime, 1, "TIMESTAMP"),
}


# UDF -> its SQL twin for a class of values: a query over a lookup's key table (k0..) giving
# the keys it handles with their result r, the same as the UDF's; the other keys go to the UDF
_SQL_TWINS = {"std_phone": phone_sql}


def _run(fn, nargs: int, fields, cols: list[list], cache: dict) -> pa.Array:
    """Apply a standardizer to columns of Python values; the Arrow result a UDF returns."""
    if len(cache) > 200_000:  # bounded: a per-call cache, not a second copy of the data
        cache.clear()
    get = cache.get
    out = []
    keys = cols[0] if nargs == 1 else zip(*cols)
    for k in keys:
        r = get(k, cache)  # the dict itself marks "missing": None is a real result
        if r is cache:
            r = fn(k) if nargs == 1 else fn(*k)
            cache[k] = r
        out.append(r)
    if fields is None:
        return pa.array(out, pa.string())
    if fields == "TIMESTAMP":
        return pa.array(out, pa.timestamp("us"))
    columns = list(zip(*out)) if out else [()] * len(fields)  # one pass, not one per field
    arrays_out = [pa.array(c, f[2]) for c, f in zip(columns, fields)]
    return pa.StructArray.from_arrays(arrays_out, names=[f[0] for f in fields])


def _make_udf(fn, nargs: int, fields):
    """The Arrow-vectorised twin of a standardizer, caching per distinct value."""
    cache: dict = {}
    fn = getattr(fn, "__wrapped__", fn)  # the UDF keeps its own cache; inputs are str or None

    def udf(*arrays):
        return _run(fn, nargs, fields, [a.to_pylist() for a in arrays], cache)

    # DuckDB checks the Python signature against the declared parameters
    if nargs == 1:
        return lambda a: udf(a)
    if nargs == 2:
        return lambda a, b: udf(a, b)
    return lambda a, b, c, d: udf(a, b, c, d)


def register_udfs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Register the vectorised standardizers on `con` (skipping ones already there).

    Each returns a STRUCT whose fields are the pure function's fields, e.g.
    ``std_phone(x).e164``; ``std_text`` returns VARCHAR and ``std_datetime`` TIMESTAMP.
    """
    have = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_name LIKE 'std_%'"
        ).fetchall()
    }
    done = []
    for name, (fn, nargs, fields) in _UDFS.items():
        if name in have:
            done.append(name)
            continue
        if fields is None:
            rtype = duckdb.sqltype("VARCHAR")
        elif fields == "TIMESTAMP":
            rtype = duckdb.sqltype("TIMESTAMP")
        else:
            rtype = duckdb.struct_type({f[0]: duckdb.sqltype(f[1]) for f in fields})
        con.create_function(
            name,
            _make_udf(fn, nargs, fields),
            [duckdb.sqltype("VARCHAR")] * nargs,
            rtype,
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
        done.append(name)
    return done

# the plain 'YYYY-MM-DD[ HH:MM:SS]' stamps DuckDB parses itself; parse_datetime agrees on them
_SQL_TS_FAST = r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$"


# below this many distinct values in all, starting worker processes costs more than it saves
PARALLEL_MIN_VALUES = 60_000
_CHUNK = 8192


def _worker_count(workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _apply_chunk(udf_name: str, cols: list[list]) -> pa.Array:
    """Run one UDF's Python function on a chunk of values (in a worker process)."""
    fn, nargs, fields = _UDFS[udf_name]
    return _run(getattr(fn, "__wrapped__", fn), nargs, fields, cols, {})


def _warm() -> None:
    """Load the dictionaries once, so forked workers start with them (copy-on-write)."""
    customer_name("華聯超市（上海）有限公司", None)
    customer_name("Shanghai Hualian Co., Ltd.", None)
    person_name("張偉")
    person_name_latin("Zhang Wei")
    parse_phone("021-12345678")
    parse_email("a@b.cn")
    parse_address(None, None, None, "上海市浦东新区科苑路88号")
    latin.warm()


def _init_worker(job_pid: int) -> None:
    """Each worker: end with the job (not only with the forkserver that forked it), then
    load the dictionaries."""
    from resolution.orphans import end_with

    end_with(job_pid)
    _warm()


def _lookups_in_processes(con, tmp: str, lookups: dict, n_workers: int) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # Workers come from a forkserver: a clean process that loads this module once, forks
    # them and so gives them no lock another thread held. Forking this process itself
    # (DuckDB's and Arrow's native threads, the CLI's progress spinner, MLflow's) made
    # workers segfault in libc. The children only run the pure standardizers, never DuckDB.
    # (They import the caller's __main__ script again, harmless for scripts with an
    # `if __name__ == "__main__"` guard, as the CLI and the benchmarks have.)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["resolution.standardize"])
    tables = {key: con.sql(f"SELECT * FROM {tmp}_{key}_k").to_arrow_table() for key in lookups}
    # chunks of the biggest lookups first, so the pool stays busy to the end
    jobs = [
        (key, i)
        for key in sorted(lookups, key=lambda k: -tables[k].num_rows)
        for i in range(0, tables[key].num_rows, _CHUNK)
    ]
    parts: dict[str, dict[int, pa.Array]] = {key: {} for key in lookups}
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(os.getpid(),)) as pool:
        pending: dict = {}
        todo = iter(jobs)
        while True:
            # a bounded window of chunks in flight keeps the parent's memory flat
            while len(pending) < 4 * n_workers:
                job = next(todo, None)
                if job is None:
                    break
                key, i = job
                cols = [c.to_pylist() for c in tables[key].slice(i, _CHUNK).columns]
                pending[pool.submit(_apply_chunk, lookups[key][1], cols)] = job
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                key, i = pending.pop(fut)
                parts[key][i] = fut.result()
    for key in lookups:
        t = tables[key]
        chunks = [parts[key][i] for i in sorted(parts[key])]
        if not chunks:  # no values: let DuckDB type the empty column through the UDF
            args = ", ".join(f"k{i}" for i in range(t.num_columns))
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {tmp}_{key} AS "
                f"SELECT *, {lookups[key][1]}({args}) AS r FROM {tmp}_{key}_k"
            )
            continue
        view = f"{tmp}_{key}_arrow"
        con.register(view, t.append_column("r", pa.chunked_array(chunks, type=chunks[0].type)))
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key} AS SELECT * FROM {view}")
        finally:
            con.unregister(view)
        del parts[key], tables[key]


def standardizer_version() -> str:
    """A fingerprint of everything a standardized value depends on: the source of every
    module of this package (`latin` included), the bundled dictionaries, and the versions of
    the libraries the standardizers call. A cache of standardized values is valid only under
    the same one."""
    import hashlib
    from importlib import metadata

    h = hashlib.sha256()
    package = resources.files("resolution")
    base = Path(str(package.joinpath("standardize")))
    for path in sorted(base.rglob("*.py"), key=lambda p: p.relative_to(base).as_posix()):
        h.update(path.relative_to(base).as_posix().encode())
        h.update(path.read_bytes())
    for mod in ("data/cn_divisions.csv", "config.py"):
        h.update(package.joinpath(mod).read_bytes())
    for lib in ("opencc", "phonenumbers", "pypinyin", "python-stdnum", "email-validator"):
        try:
            h.update(f"{lib}={metadata.version(lib)};".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{lib}=-;".encode())
    return h.hexdigest()[:16]


class _Cache:
    """Standardized values from earlier runs, in a DuckDB file (``resources.standardize_cache``).

    One table per lookup: the key columns k0.., the result r (exactly what the lookup
    computes) and `run`, the run that last stored or kept the entry. Entries of another
    `standardizer_version` are dropped on open. When a table holds more than twice the
    distinct values of the largest run it has served, it is cut back to that many: this
    run's values, then the most recent others (a small `er match` batch does not evict
    what the nightly job uses). Unusable (locked by another job, not a DuckDB file): a
    warning, and the run standardizes everything itself.
    """

    ALIAS = "__std_cache"

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str):
        self.con, self.path, self.ok = con, path, False
        try:
            crypto.attach(con, path, self.ALIAS)  # encrypted with ER_ENCRYPTION_KEY if set
        except (duckdb.Error, ResolutionError) as exc:
            _log.warning("standardize: cache %s not used (%s)", path, str(exc).splitlines()[0])
            return
        self.ok = True
        try:
            os.chmod(path, 0o600)  # personal data: owner only
        except OSError:
            pass
        version = standardizer_version()
        a = self.ALIAS
        con.execute(f"CREATE TABLE IF NOT EXISTS {a}.meta (version VARCHAR, run BIGINT)")
        con.execute(f"CREATE TABLE IF NOT EXISTS {a}.largest (lookup VARCHAR, n BIGINT)")
        have = con.execute(f"SELECT version, run FROM {a}.meta").fetchall()
        if len(have) != 1 or have[0][0] != version:
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                "AND table_name NOT IN ('meta', 'largest')", [a]
            ).fetchall():
                con.execute(f"DROP TABLE {a}.{_q(t)}")
            con.execute(f"DELETE FROM {a}.meta")
            con.execute(f"DELETE FROM {a}.largest")
            con.execute(f"INSERT INTO {a}.meta VALUES (?, 0)", [version])
        con.execute(f"UPDATE {a}.meta SET run = run + 1")
        self.run = con.execute(f"SELECT run FROM {a}.meta").fetchall()[0][0]

    def _has(self, key: str) -> bool:
        return bool(self.con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
            [self.ALIAS, key],
        ).fetchall())

    def _on(self, table: str, left: str, right: str) -> str:
        """Equal keys (k0, k1, ..., NULL equal to NULL) of the lookup `table`."""
        keys = [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()
                if re.fullmatch(r"k\d+", r[0])]
        return " AND ".join(f"{left}.{k} IS NOT DISTINCT FROM {right}.{k}" for k in keys)

    def split(self, tmp: str, key: str) -> int:
        """Keep only the keys the cache lacks in {tmp}_{key}_k; the hits with their results
        go to {tmp}_{key}_hit. Returns the number of hits."""
        con, c = self.con, f"{self.ALIAS}.{key}"
        if not self._has(key):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key}_hit AS "
                        f"SELECT *, NULL AS r FROM {tmp}_{key}_k LIMIT 0")
            return 0
        on = self._on(f"{tmp}_{key}_k", "k", "c")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key}_hit AS "
                    f"SELECT k.*, c.r FROM {tmp}_{key}_k k JOIN {c} c ON {on}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key}_k AS "
                    f"SELECT * FROM {tmp}_{key}_k k ANTI JOIN {c} c ON {on}")
        return con.execute(f"SELECT count(*) FROM {tmp}_{key}_hit").fetchall()[0][0]

    def merge(self, tmp: str, key: str) -> None:
        """Store the values computed now, then complete {tmp}_{key} with the hits."""
        con, a, c = self.con, self.ALIAS, f"{self.ALIAS}.{key}"
        new = f"SELECT *, CAST({int(self.run)} AS BIGINT) AS run FROM {tmp}_{key}"
        if not self._has(key):
            con.execute(f"CREATE TABLE {c} AS {new}")
        else:
            con.execute(f"INSERT INTO {c} BY NAME {new}")
        hits = con.execute(f"SELECT count(*) FROM {tmp}_{key}_hit").fetchall()[0][0]
        if hits:
            con.execute(f"INSERT INTO {tmp}_{key} BY NAME SELECT * FROM {tmp}_{key}_hit")
        con.execute(f"DROP TABLE {tmp}_{key}_hit")
        now = con.execute(f"SELECT count(*) FROM {tmp}_{key}").fetchall()[0][0]
        largest = max([now] + [r[0] for r in con.execute(
            f"SELECT n FROM {a}.largest WHERE lookup = ?", [key]).fetchall()])
        con.execute(f"DELETE FROM {a}.largest WHERE lookup = ?", [key])
        con.execute(f"INSERT INTO {a}.largest VALUES (?, ?)", [key, largest])
        total = con.execute(f"SELECT count(*) FROM {c}").fetchall()[0][0]
        if total > 2 * max(largest, 1):
            on = self._on(f"{tmp}_{key}", "c", "x")
            con.execute(f"""
                CREATE OR REPLACE TABLE {c} AS
                SELECT * FROM ({new})
                UNION ALL
                (SELECT * FROM {c} c ANTI JOIN {tmp}_{key} x ON {on}
                 ORDER BY run DESC LIMIT {max(largest - now, 0)})""")

    def close(self) -> None:
        if self.ok:
            self.con.execute(f"DETACH {self.ALIAS}")
            self.ok = False


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def standardize_table(
    con: duckdb.DuckDBPyConnection,
    source: str,
    target: str,
    *,
    workers: int | None = None,
    cache: str | os.PathLike | None = None,
    fields: Mapping[str, FieldConfig] | None = None,
) -> dict[str, int]:
    """Create table `target`: every column of `source` unchanged plus the standardized columns
    (``STD_COLUMNS``) and those of the declared `fields` (config `fields`: each input column
    through its standardizer, ``columns.field_columns``), one row per source row, in source
    order.

    The standardizers run once per distinct value (or value tuple) and are joined back: inside
    DuckDB through the registered UDFs, or, when there are at least ``PARALLEL_MIN_VALUES``
    distinct values and more than one core, through the same vectorised UDF functions in
    ``workers`` processes (default: one per core), since Python UDFs hold the GIL.
    Source columns that are missing are treated as NULL.

    With `cache` (a DuckDB file path, see `_Cache`), values standardized by an earlier run
    under the same `standardizer_version` are read from it instead of computed, and the
    ones computed now are added: the job after training on the same data, or a nightly
    re-run over a mostly unchanged master, standardizes only what is new.

    Returns ``{"values": distinct values looked up, "cached": of them found in the cache}``.
    """
    register_udfs(con)
    cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    by_lower = {c.lower(): c for c in cols}  # DuckDB's names ignore case; so does the config

    def col(name: str | None, table: str = "") -> str:
        real = None if name is None else name if name in cols else by_lower.get(name.lower())
        if real is None:
            return "CAST(NULL AS VARCHAR)"
        return f"CAST({table + '.' if table else ''}{_q(real)} AS VARCHAR)"

    tmp = "__std_" + _RX_NON_WORD.sub("_", target)
    # lookup -> (source columns in UDF argument order (None: NULL), UDF, extra filter on
    # the distinct keys)
    fast_ts = f"k0 IS NOT NULL AND NOT regexp_full_match(k0, '{_SQL_TS_FAST}')"
    lookups: dict[str, tuple[list[str | None], str, str]] = {
        key: (list(lk.fields), lk.udf, fast_ts if key == "ts" else "")
        for key, lk in LOOKUPS.items()
    }
    joins: dict[str, tuple[str, list[str | None]]] = {
        alias: (key, list(names)) for alias, (key, names) in JOINS.items()
    }
    field_selects: list[str] = []
    for i, (name, fc) in enumerate((fields or {}).items()):
        fs = FIELD_STANDARDIZERS[fc.standardizer]
        value = col(fc.column or name, "s")
        if fs.udf is None:  # plain SQL over the value (list), or nothing (none)
            field_selects += field_select_sql(name, fc, "", value)
            continue
        # the standardizer in the key: a cache shared by configs keeps each one's results apart
        # (and whether it reads a second column: the cached key columns differ)
        key = f"fld_{name}__{fc.standardizer}{'__surname' if fc.surname_column else ''}"
        alias = f"f{i}"
        names = field_inputs(name, fc)
        lookups[key] = (names, fs.udf, "")
        joins[alias] = (key, names)
        field_selects += field_select_sql(name, fc, alias, value)
    created: list[str] = []
    store: _Cache | None = None
    t0 = time.perf_counter()
    try:
        try:  # a base table keeps its order in rowid; anything else gets numbered
            con.execute(f"SELECT rowid FROM {source} LIMIT 0").fetchall()
            src, order = source, "s.rowid"
        except duckdb.Error:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {tmp}_src AS "
                f"SELECT *, row_number() OVER () AS __rn FROM {source}"
            )
            created.append(f"{tmp}_src")
            src, order = f"{tmp}_src", "s.__rn"
        sizes = {}
        for key, (names, _udf, where) in lookups.items():
            if key == "tel":
                keys = (
                    f"SELECT {col('mobile')} AS k0 FROM {src} "
                    f"UNION SELECT {col('phone')} FROM {src}"
                )
            else:
                sel = ", ".join(f"{col(n)} AS k{i}" for i, n in enumerate(names))
                keys = f"SELECT DISTINCT {sel} FROM {src}"
            if where:
                keys = f"SELECT * FROM ({keys}) WHERE {where}"
            con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key}_k AS {keys}")
            created.append(f"{tmp}_{key}_k")
            sizes[key] = con.execute(f"SELECT count(*) FROM {tmp}_{key}_k").fetchall()[0][0]
        stats = {"values": sum(sizes.values()), "cached": 0}
        if cache is not None:
            store = _Cache(con, os.fspath(cache))
            if store.ok:
                for key in lookups:
                    created.append(f"{tmp}_{key}_hit")
                    hits = store.split(tmp, key)
                    sizes[key] -= hits
                    stats["cached"] += hits
        in_sql = {}
        for key, (_names, udf, _where) in lookups.items():
            # the values SQL standardizes set-wise (of those the cache lacks), out of the
            # UDF's way; their results join the cache like the UDF's
            if udf in _SQL_TWINS:
                created.append(f"{tmp}_{key}_sql")
                con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key}_sql AS "
                            f"{_SQL_TWINS[udf](f'{tmp}_{key}_k')}")
                con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key}_k AS SELECT * FROM "
                            f"{tmp}_{key}_k k ANTI JOIN {tmp}_{key}_sql q ON k.k0 = q.k0")
                in_sql[key] = con.execute(f"SELECT count(*) FROM {tmp}_{key}_sql").fetchall()[0][0]
                sizes[key] -= in_sql[key]
        n_workers = _worker_count(workers)
        created.extend(f"{tmp}_{key}" for key in lookups)
        _log.info("standardize: distinct values %s, besides %s in SQL (%.1fs)", sizes, in_sql,
                  time.perf_counter() - t0)
        parallel = n_workers > 1 and sum(sizes.values()) >= PARALLEL_MIN_VALUES
        if parallel:
            try:
                _lookups_in_processes(con, tmp, lookups, n_workers)
            except (OSError, ValueError, AssertionError, BrokenProcessPool) as exc:
                # no fork here (Windows, macOS), or a daemon process that may not have children
                _log.warning("standardize: worker processes unavailable (%s); using one", exc)
                parallel = False
        if not parallel:
            for key, (names, udf, _where) in lookups.items():
                args = ", ".join(f"k{i}" for i in range(1 if key == "tel" else len(names)))
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {tmp}_{key} AS "
                    f"SELECT *, {udf}({args}) AS r FROM {tmp}_{key}_k"
                )
        for key in lookups:  # free the key lists before the big join
            con.execute(f"DROP TABLE IF EXISTS {tmp}_{key}_k")
        for key in in_sql:
            con.execute(f"INSERT INTO {tmp}_{key} BY NAME SELECT * FROM {tmp}_{key}_sql")
        if store is not None and store.ok:
            for key in lookups:
                store.merge(tmp, key)
            store.close()
        _log.info("standardize: standardized them (%.1fs)", time.perf_counter() - t0)

        def on(alias: str, names: list[str | None]) -> str:
            return " AND ".join(
                f"{col(n, 's')} IS NOT DISTINCT FROM {alias}.k{i}"
                for i, n in enumerate(names) if n is not None
            )

        ua = col("updated_at", "s")
        select = select_sql({
            "updated_at_ts": f"CASE WHEN regexp_full_match({ua}, '{_SQL_TS_FAST}') "
            f"THEN CAST({ua} AS TIMESTAMP) ELSE t.r END"
        })
        if field_selects:
            select += ",\n" + ",\n".join(field_selects)
        src_cols = ", ".join(
            f"s.{_q(c)}"
            for c in [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        )
        join_sql = "\n".join(
            f"LEFT JOIN {tmp}_{key} {alias} ON {on(alias, names)}"
            for alias, (key, names) in joins.items()
        )
        con.execute(f"""
            CREATE OR REPLACE TABLE {target} AS
            SELECT {src_cols}, {select}
            FROM {src} s
            {join_sql}
            ORDER BY {order}""")
        _log.info("standardize: joined into %s (%.1fs)", target, time.perf_counter() - t0)
        return stats
    finally:
        if store is not None:
            store.close()
        for t in created:
            con.execute(f"DROP TABLE IF EXISTS {t}")
