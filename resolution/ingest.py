"""Ingest: read CSV (UTF-8, UTF-8 with BOM, GBK, GB18030), Excel .xlsx and Parquet into
DuckDB, map the input columns onto the canonical customer fields, and set aside rows that
cannot be used (empty or duplicate record IDs) in `rejected` with the reason.

Owns tables `raw_records` (canonical VARCHAR columns plus `_row`, the 1-based row in
its input file, and `_input`, the file it came from) and `rejected`.
"""

from __future__ import annotations

import codecs
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from resolution.config import CANONICAL_FIELDS, SourceConfig
from resolution.db import columns, quote_ident as _q, scalar
from resolution.errors import InputError

SUPPORTED = {".csv", ".txt", ".tsv", ".parquet", ".pq", ".xlsx", ".xlsm"}
_CHUNK = 1 << 20
_MAX_LINE = 64 << 20  # a record may be up to 64 MB (DuckDB's default is 2 MB)
# No customer field is legitimately longer; such a row is rejected (with the reason),
# not standardized (regexes over megabytes of text take minutes).
MAX_FIELD_CHARS = 10_000

# Accepted spellings of the encodings Chinese business systems write.
_ENCODING_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-sig": "utf-8-sig",
    "gbk": "gbk",
    "cp936": "gbk",
    "gb2312": "gbk",
    "gb18030": "gb18030",
}


@dataclass(frozen=True)
class IngestResult:
    rows_in: int
    accepted: int
    rejected: int
    # filled by pipeline.prepare_records: distinct values standardized, and of them how
    # many came from the standardize cache
    standardized_values: int = 0
    standardize_cache_hits: int = 0


def _decodes(path: Path, encoding: str) -> tuple[bool, int]:
    """Decode the whole file strictly, streaming; return (ok, byte offset of first error)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return False, offset + exc.start
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, offset
    return True, -1


def _has_non_ascii(path: Path) -> bool:
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if any(b > 0x7F for b in chunk):
                return True
    return False


def detect_encoding(path: Path, requested: str | None = None) -> str:
    """Return the encoding to read `path` with, checking the whole file decodes cleanly.

    A wrong guess must not turn into mojibake: a named encoding is verified, and a file
    that is valid UTF-8 but named GBK (or the reverse) is refused with advice.
    """
    if requested:
        enc = _ENCODING_ALIASES.get(requested.lower().replace("_", "-"))
        if enc is None:
            raise InputError(
                f"unsupported --encoding '{requested}'; use one of utf-8, utf-8-sig, gbk, gb18030"
            )
        ok, at = _decodes(path, enc)
        if not ok:
            if enc != "utf-8" and _decodes(path, "utf-8")[0]:
                hint = "the file is valid UTF-8: drop --encoding or pass utf-8"
            elif enc.startswith("utf") and _decodes(path, "gb18030")[0]:
                hint = "it looks like GBK/GB18030: pass --encoding gb18030"
            else:
                hint = "check the file's encoding"
            raise InputError(f"{path}: not valid {enc} (first bad byte at offset {at}); {hint}")
        if enc in ("gbk", "gb18030") and _has_non_ascii(path) and _decodes(path, "utf-8")[0]:
            raise InputError(
                f"{path}: you named {requested} but the file is valid UTF-8; reading it as "
                f"{requested} would garble the Chinese text. Drop --encoding or pass utf-8"
            )
        return enc
    ok, at = _decodes(path, "utf-8")
    if ok:
        with path.open("rb") as fh:
            return "utf-8-sig" if fh.read(3) == codecs.BOM_UTF8 else "utf-8"
    if _decodes(path, "gb18030")[0]:
        return "gb18030"
    raise InputError(
        f"{path}: neither UTF-8 nor GBK/GB18030 text (first bad byte at offset {at}); "
        "save it as UTF-8 CSV or pass --encoding"
    )


def _transcode_to_utf8(path: Path, encoding: str, workdir: Path) -> Path:
    out = workdir / (path.stem + ".utf8.csv")
    with (
        path.open("r", encoding=encoding, newline="") as src,
        out.open("w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(_CHUNK):
            dst.write(chunk)
    return out


def _read_csv(con, path: Path, table: str, encoding: str | None, workdir: Path) -> None:
    enc = detect_encoding(path, encoding)
    src = path if enc in ("utf-8", "utf-8-sig") else _transcode_to_utf8(path, enc, workdir)
    sql = (
        f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv(?, all_varchar=true, "
        "header=true, quote='\"', escape='\"', strict_mode=false, null_padding=true, "
        f"sample_size=-1, max_line_size={_MAX_LINE}{{extra}})"
    )
    try:
        con.execute(sql.format(extra=""), [str(src)])
    except duckdb.Error:
        # The parallel reader with null_padding cannot follow newlines inside quoted
        # fields (valid CSV); the single-threaded reader can.
        try:
            con.execute(sql.format(extra=", parallel=false"), [str(src)])
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise InputError(f"{path}: cannot parse as CSV ({first})")


def _read_parquet(con, path: Path, table: str) -> None:
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet(?)", [str(path)])
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot read as Parquet ({str(exc).splitlines()[0]})")
    cols = columns(con, table)
    casts = ", ".join(f"CAST({_q(c)} AS VARCHAR) AS {_q(c)}" for c in cols)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {casts} FROM {table}")


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(con, path: Path, table: str) -> None:
    import openpyxl
    import pyarrow as pa

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise InputError(f"{path}: cannot read as Excel .xlsx ({type(exc).__name__}: {exc})")
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputError(f"{path}: the first worksheet is empty")
        names = [(_cell_text(h) or f"column{i + 1}").strip() for i, h in enumerate(header)]
        columns: list[list[str | None]] = [[] for _ in names]
        for row in rows:
            if row is None or all(v is None for v in row):
                continue
            for i in range(len(names)):
                columns[i].append(_cell_text(row[i]) if i < len(row) else None)
    finally:
        wb.close()
    arrow = pa.table({n: pa.array(c, type=pa.string()) for n, c in zip(names, columns)})
    con.register("_xlsx_view", arrow)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _xlsx_view")
    con.unregister("_xlsx_view")


def read_input(
    con: duckdb.DuckDBPyConnection, path: str | Path, table: str, encoding: str | None = None
) -> None:
    """Load one input file into `table`, every column as VARCHAR."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"input file not found: {p}")
    if not p.is_file():
        raise InputError(f"input is not a file: {p}")
    try:
        size = p.stat().st_size
        with p.open("rb"):
            pass
    except OSError as exc:
        raise InputError(f"cannot open input {p}: {exc.strerror}")
    if size == 0:
        raise InputError(f"input file is empty: {p} (expected a header row and records)")
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(
            f"{p}: unsupported file type '{suffix}'; use .csv, .xlsx or .parquet"
        )
    with tempfile.TemporaryDirectory(prefix="er-ingest-") as tmp:
        if suffix in (".parquet", ".pq"):
            _read_parquet(con, p, table)
        elif suffix in (".xlsx", ".xlsm"):
            _read_xlsx(con, p, table)
        else:
            _read_csv(con, p, table, encoding, Path(tmp))
    n = scalar(con, f"SELECT count(*) FROM {table}")
    if n == 0:
        raise InputError(f"{p}: has a header but no records")


def _mapping_sql(con, table: str, source: SourceConfig, path: Path) -> str:
    present = columns(con, table)
    if len(present) == 1 and any(sep in present[0] for sep in (",", "\t", ";", "|")):
        raise InputError(
            f"{path}: the CSV could not be split into columns (the header reads as one "
            "column); check for an unbalanced quote (\") in the file"
        )
    by_lower = {c.strip().lower(): c for c in present}
    exprs = []
    for field in CANONICAL_FIELDS:
        mapped = source.columns.get(field)
        if mapped is not None:
            col = mapped if mapped in present else by_lower.get(mapped.strip().lower())
            if col is None:
                raise InputError(
                    f"{path}: column '{mapped}' (mapped to '{field}' in source.columns) is "
                    f"missing; the file has: {', '.join(present[:20])}"
                )
        else:
            col = by_lower.get(field)
            if col is None and field in source.required:
                raise InputError(
                    f"{path}: required column '{field}' is missing; add it or map it in the "
                    f"config's source.columns (the file has: {', '.join(present[:20])})"
                )
        default = source.default_source_system or path.stem
        default_sql = f"'{default.replace(chr(39), chr(39) * 2)}'"
        if col is not None and field == "source_system":
            # an empty source_system cell gets the same default as a missing column
            exprs.append(f"coalesce(NULLIF(trim({_q(col)}), ''), {default_sql}) AS {field}")
        elif col is not None:
            exprs.append(f"NULLIF(trim({_q(col)}), '') AS {field}")
        elif field == "source_system":
            exprs.append(f"{default_sql} AS source_system")
        else:
            exprs.append(f"CAST(NULL AS VARCHAR) AS {field}")
    return ", ".join(exprs)


def ingest(
    con: duckdb.DuckDBPyConnection,
    inputs: list[str | Path],
    source: SourceConfig,
    encoding: str | None = None,
) -> IngestResult:
    """Read every input, map to canonical fields, and split usable rows from rejected ones.

    Creates `raw_records` (usable rows) and `rejected` (rows with an empty or duplicate
    record_id; the first occurrence of a duplicated ID is kept, later ones rejected).
    """
    parts = []
    for i, path in enumerate(inputs):
        p = Path(path)
        table = f"_input_{i}"
        read_input(con, p, table, encoding or source.encoding)
        cols = _mapping_sql(con, table, source, p)
        parts.append(
            f"SELECT {cols}, row_number() OVER () AS _row, '{p.name.replace(chr(39), chr(39) * 2)}' "
            f"AS _input, {i} AS _input_no FROM {table}"
        )
    con.execute("CREATE OR REPLACE TABLE _mapped AS " + " UNION ALL ".join(parts))
    for i in range(len(inputs)):
        con.execute(f"DROP TABLE IF EXISTS _input_{i}")
    con.execute(
        """
        CREATE OR REPLACE TABLE _ranked AS
        SELECT *,
               row_number() OVER (PARTITION BY record_id ORDER BY _input_no, _row) AS _occurrence,
               first_value(_input || ' row ' || _row) OVER (
                   PARTITION BY record_id ORDER BY _input_no, _row) AS _first_at
        FROM _mapped
        """
    )
    fields = ", ".join(CANONICAL_FIELDS)
    too_long = "concat_ws(', ', " + ", ".join(
        f"CASE WHEN length({f}) > {MAX_FIELD_CHARS} THEN '{f}' END" for f in CANONICAL_FIELDS
    ) + ")"
    con.execute("ALTER TABLE _ranked ADD COLUMN _too_long VARCHAR")
    con.execute(f"UPDATE _ranked SET _too_long = NULLIF({too_long}, '')")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE rejected AS
        SELECT {fields}, _input, _row,
               CASE WHEN record_id IS NULL THEN 'empty record_id'
                    WHEN _occurrence > 1
                    THEN 'duplicate record_id (first occurrence kept: ' || _first_at || ')'
                    ELSE 'field longer than {MAX_FIELD_CHARS:,} characters: ' || _too_long
               END AS reason
        FROM _ranked
        WHERE record_id IS NULL OR _occurrence > 1 OR _too_long IS NOT NULL
        ORDER BY _input_no, _row
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE raw_records AS
        SELECT {fields}, _input, _row FROM _ranked
        WHERE record_id IS NOT NULL AND _occurrence = 1 AND _too_long IS NULL
        ORDER BY _input_no, _row
        """
    )
    rows_in = scalar(con, "SELECT count(*) FROM _mapped")
    con.execute("DROP TABLE _mapped; DROP TABLE _ranked")
    accepted = scalar(con, "SELECT count(*) FROM raw_records")
    rejected = rows_in - accepted
    if accepted == 0:
        raise InputError(
            f"all {rows_in} input rows were rejected (empty or duplicate record_id, or a "
            f"field longer than {MAX_FIELD_CHARS:,} characters); "
            "check the record_id column mapping in source.columns"
        )
    return IngestResult(rows_in=rows_in, accepted=accepted, rejected=rejected)
