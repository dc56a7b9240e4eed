"""Small DuckDB helpers shared by the stages.

DuckDB 2 keeps a connection busy until a result is fully fetched, so single values are
read with `fetchall()`; `scalar` says that once. `transaction` is the one way a
multi-statement store change is made all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> Any:
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, names: list[str], data: list[tuple]
) -> None:
    """Append Python rows to `table` in one vectorised insert (executemany is row by row)."""
    if not data:
        return
    import pyarrow as pa

    arrow = pa.table({n: [row[i] for row in data] for i, n in enumerate(names)})
    view = f"_insert_{table.replace('.', '_')}"
    con.register(view, arrow)
    try:
        cols = ", ".join(quote_ident(n) for n in names)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {view}")
    finally:
        con.unregister(view)


@contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, *, commit: bool = True, detach: str | None = None
) -> Iterator[None]:
    """BEGIN TRANSACTION; the block; COMMIT. Any exception (an interrupt too) rolls back
    and propagates; `commit=False` rolls back a block that succeeded (a dry run).
    `detach` names an attached database to DETACH afterwards, whatever happened (it
    cannot be detached while the transaction is open).

    A crash-test fault point that must fire just before COMMIT (`fault_point("commit")`)
    is the block's last statement: nothing runs between it and the COMMIT."""
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            yield
            con.execute("COMMIT" if commit else "ROLLBACK")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:  # the failure may have ended the transaction already
                pass
            raise
    finally:
        if detach is not None:
            con.execute(f"DETACH {quote_ident(detach)}")
