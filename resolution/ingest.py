"""Ingest: read CSV (UTF-8, UTF-8 with BOM, GBK, GB18030), Excel .xlsx and Parquet into
DuckDB, map the input columns onto the canonical customer fields, keep every other input
column beside them unchanged (the open schema: your own columns, those the config declares
in `fields` among them), and set aside rows that cannot be used in `rejected` with the
reason.

Nothing is lost or altered silently: a workbook with several worksheets of data is refused
unless one is named (`sheet`), duplicate column names are refused, record IDs are kept
exactly as given (control or invisible characters reject the row; surrounding spaces are
kept and reported), and Excel numbers too long for Excel's 15 significant digits reject
the row. What a user should know but is not an error comes back in
`IngestResult.warnings`.

Owns tables `raw_records` (canonical VARCHAR columns, the other input columns as given,
`_row`, the 1-based row in its input file, and `_input`, the file it came from) and
`rejected`. An input column whose name the engine uses itself (a canonical field read from
another column, a standardized column, `entity_id`, names starting with `_` ...) is kept
as `input_<name>`, with a warning.
"""

from __future__ import annotations

import codecs
import csv
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from resolution import crypto
from resolution.config import (
    CANONICAL_FIELDS,
    Config,
    FieldConfig,
    SourceConfig,
    is_column_name,
    referenced_columns,
)
from resolution.db import columns, quote_literal, scalar
from resolution.db import quote_ident as _q
from resolution.errors import ConfigError, InputError
from resolution.model.settings import build_settings

SUPPORTED = {".csv", ".txt", ".tsv", ".parquet", ".pq", ".xlsx", ".xlsm"}
EXCEL = {".xlsx", ".xlsm"}
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
    # accepted record IDs with leading or trailing spaces (kept as given, see ingest)
    record_ids_with_spaces: int = 0
    # one line each for the CLI's `warning:` lines and summary.json
    warnings: tuple[str, ...] = ()


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


def _refuse_duplicate_columns(path: Path, names: list[str], where: str = "") -> None:
    """Refuse a header with two columns of one name.

    Names that differ only by case or surrounding spaces count as one: the column mapping
    looks names up that way, and DuckDB's column names ignore case (it would silently
    rename the second one `name_1`).
    """
    seen: dict[str, list[str]] = {}
    for n in names:
        seen.setdefault(n.strip().lower(), []).append(n)
    dups = [v for v in seen.values() if len(v) > 1]
    if dups:
        shown = "; ".join(" / ".join(repr(n) for n in v) for v in dups[:10])
        raise InputError(
            f"{path}{where}: duplicate column name(s) {shown}; every column needs its own "
            "name (names differing only by case or surrounding spaces are the same column)"
        )


def _csv_header(path: Path, encoding: str, read_as: list[str]) -> list[str] | None:
    """The header row as written, parsed with Python's csv module.

    DuckDB's reader renames duplicate names (`name`, `name_1`), so they must be seen
    before it. The delimiter is the one whose split gives DuckDB's column count, and of
    several such the one agreeing with most of DuckDB's names.
    """
    csv.field_size_limit(max(csv.field_size_limit(), _MAX_LINE))
    best, score = None, -1
    for delim in (",", "\t", ";", "|"):
        with path.open("r", encoding=encoding, newline="") as fh:
            try:
                fields = next(csv.reader(fh, delimiter=delim, quotechar='"'), None)
            except csv.Error:
                continue
        if fields is None or len(fields) != len(read_as):
            continue
        agree = sum(f.strip() == c for f, c in zip(fields, read_as))
        if agree > score:
            best, score = fields, agree
    return best


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
    header = _csv_header(path, enc, columns(con, table))
    if header is not None:
        _refuse_duplicate_columns(path, header)


def _read_parquet(con, path: Path, table: str) -> None:
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet(?)", [str(path)])
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot read as Parquet ({str(exc).splitlines()[0]})")
    cols = columns(con, table)
    casts = ", ".join(f"CAST({_q(c)} AS VARCHAR) AS {_q(c)}" for c in cols)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {casts} FROM {table}")


# Excel holds a number as a double and keeps 15 significant digits: an 18-digit ID card
# typed as a number comes back as 110101199001011000. A numeric cell of 16 or more
# integer digits is therefore not the value the user meant, whatever it reads as now.
EXCEL_DIGITS = 15
EXCEL_NUMBER_REASON = (
    "stored as a number in Excel, which keeps only 15 significant digits (the digits "
    "beyond the 15th are lost); format the column as text"
)
# Hidden column of an Excel input's table: per row, the columns whose cells hold such a
# number (absent when there are none). ingest rejects the rows where a mapped field has one.
EXCEL_NUMBER_COLUMN = "__er_excel_long_numbers"


def _too_long_for_excel(value) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) >= 10**EXCEL_DIGITS
    )


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float) and "e" in repr(value):
        # 1e-05: written out, not in scientific notation
        return format(Decimal(repr(value)), "f")
    return str(value)


def _has_cells(ws) -> bool:
    return any(v is not None for row in ws.iter_rows(values_only=True) for v in row)


def _pick_sheet(wb, path: Path, sheet: str | None):
    titles = [ws.title for ws in wb.worksheets]
    if sheet is not None:
        for ws in wb.worksheets:
            if ws.title == sheet:
                return ws
        raise InputError(
            f"{path}: no worksheet named '{sheet}' (--sheet); it has: "
            + ", ".join(f"'{t}'" for t in titles)
        )
    with_data = [ws for ws in wb.worksheets if _has_cells(ws)]
    if len(with_data) > 1:
        names = ", ".join(
            f"'{ws.title}'" + (" (hidden)" if ws.sheet_state != "visible" else "")
            for ws in with_data
        )
        raise InputError(
            f"{path}: {len(with_data)} worksheets have data ({names}); name the one to read "
            "with --sheet NAME, or give each sheet as its own file"
        )
    if not with_data:
        raise InputError(f"{path}: every worksheet is empty")
    return with_data[0]


def _read_xlsx(con, path: Path, table: str, sheet: str | None = None) -> None:
    import openpyxl
    import pyarrow as pa

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise InputError(f"{path}: cannot read as Excel .xlsx ({type(exc).__name__}: {exc})")
    try:
        ws = _pick_sheet(wb, path, sheet)
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputError(f"{path}: worksheet '{ws.title}' is empty")
        names = [(_cell_text(h) or f"column{i + 1}").strip() for i, h in enumerate(header)]
        _refuse_duplicate_columns(path, names, f" (worksheet '{ws.title}')")
        columns: list[list[str | None]] = [[] for _ in names]
        long_numbers: list[list[str] | None] = []
        for row in rows:
            if row is None or all(v is None for v in row):
                continue
            flagged = None
            for i in range(len(names)):
                v = row[i] if i < len(row) else None
                columns[i].append(_cell_text(v))
                if _too_long_for_excel(v):
                    flagged = (flagged or []) + [names[i]]
            long_numbers.append(flagged)
    finally:
        wb.close()
    data = {n: pa.array(c, type=pa.string()) for n, c in zip(names, columns)}
    if any(long_numbers):
        data[EXCEL_NUMBER_COLUMN] = pa.array(long_numbers, type=pa.list_(pa.string()))
    con.register("_xlsx_view", pa.table(data))
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _xlsx_view")
    con.unregister("_xlsx_view")


def read_input(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    table: str,
    encoding: str | None = None,
    sheet: str | None = None,
) -> None:
    """Load one input file into `table`, every column as VARCHAR.

    `sheet` names the worksheet of an Excel file (other files ignore it); without it a
    workbook must have one worksheet with data. An Excel table may have the extra column
    EXCEL_NUMBER_COLUMN (see there).
    """
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
    with crypto.scratch_dir("er-ingest-") as tmp:  # a GBK CSV's UTF-8 copy
        if suffix in (".parquet", ".pq"):
            _read_parquet(con, p, table)
        elif suffix in EXCEL:
            _read_xlsx(con, p, table, sheet)
        else:
            _read_csv(con, p, table, encoding, Path(tmp))
    n = scalar(con, f"SELECT count(*) FROM {table}")
    if n == 0:
        raise InputError(f"{p}: has a header but no records")


def check_sheet_option(inputs: list[str | Path], sheet: str | None) -> None:
    """`--sheet` names a worksheet of every Excel input; with no Excel input it is a
    mistake (probably the wrong file), not something to ignore."""
    if sheet is not None and not any(Path(i).suffix.lower() in EXCEL for i in inputs):
        raise InputError(
            f"--sheet '{sheet}' names an Excel worksheet, but no input is an .xlsx file"
        )


def _resolve_columns(con, table: str, source: SourceConfig, path: Path,
                     origin: str | None = None) -> dict[str, str | None]:
    """Canonical field -> the input column it is read from (None: not in the file).
    `origin`: the config file, named in the error for a mapped column the file lacks."""
    present = [c for c in columns(con, table) if c != EXCEL_NUMBER_COLUMN]
    if len(present) == 1 and any(sep in present[0] for sep in (",", "\t", ";", "|")):
        raise InputError(
            f"{path}: the CSV could not be split into columns (the header reads as one "
            "column); check for an unbalanced quote (\") in the file"
        )
    by_lower = {c.strip().lower(): c for c in present}
    found: dict[str, str | None] = {}
    for field in CANONICAL_FIELDS:
        mapped = source.columns.get(field)
        if mapped is not None:
            col = mapped if mapped in present else by_lower.get(mapped.strip().lower())
            if col is None:
                where = f" (config {origin}, key source.columns.{field})" if origin else ""
                raise InputError(
                    f"{path}: column '{mapped}' (mapped to '{field}' in source.columns) is "
                    f"missing{where}; the file has: {', '.join(present[:20])}"
                )
        else:
            col = by_lower.get(field)
            if col is None and field in source.required:
                raise InputError(
                    f"{path}: required column '{field}' is missing; add it or map it in the "
                    f"config's source.columns (the file has: {', '.join(present[:20])})"
                )
        found[field] = col
    return found


# Column names later stages give meaning to (clusters, pairs, Splink's linking column,
# the quality score): an input column of such a name is kept as `input_<name>`.
ENGINE_COLUMNS = frozenset({
    "entity_id", "cluster_id", "cluster_confidence", "membership_confidence", "cluster_size",
    "quality_score", "source_dataset", "unique_id", "match_weight", "match_probability",
    "match_key", "needs_review", "record_count",
})
KEPT_PREFIX = "input_"


def _passthrough(con, table: str, mapped: dict[str, str],
                 reserved: set[str]) -> dict[str, str]:
    """Input column -> its name in `raw_records`, for every input column that is not read
    as a canonical field of the same name (those are the canonical columns themselves)."""
    out: dict[str, str] = {}
    for c in columns(con, table):
        if c == EXCEL_NUMBER_COLUMN:
            continue
        low = c.strip().lower()
        if mapped.get(low) == c:  # the canonical field of this very name
            continue
        taken = low in reserved or low.startswith("_")
        # surrounding spaces dropped from the name ("rec_id, given_name" headers)
        out[c] = KEPT_PREFIX + c.strip() if taken else c.strip()
    return out


def _reserved_names(fields: dict[str, FieldConfig], origin: str) -> set[str]:
    # imported here: the standardize package loads its dictionaries, which reading an
    # input file alone (training.labels, training.evaluation) does not need
    from resolution.standardize.columns import STD_COLUMNS, declared_columns

    return {n.lower() for n in (*CANONICAL_FIELDS, *STD_COLUMNS, *ENGINE_COLUMNS,
                                *declared_columns(fields, origin))}


def _declared_inputs(fields: dict[str, FieldConfig]) -> list[tuple[str, str, str]]:
    """(field, input column, config key) of every input column the declared fields read."""
    out = []
    for name, fc in fields.items():
        out.append((name, fc.column or name,
                    f"fields.{name}.column" if fc.column else f"fields.{name}"))
        if fc.surname_column:
            out.append((name, fc.surname_column, f"fields.{name}.surname_column"))
    return out


def _check_declared(con, table: str, fields: dict[str, FieldConfig], path: Path,
                    origin: str) -> None:
    """Every column the config's `fields` name is in this input."""
    present = [c for c in columns(con, table) if c != EXCEL_NUMBER_COLUMN]
    lower = {c.strip().lower() for c in present}
    for _name, col, key in _declared_inputs(fields):
        if col.strip().lower() not in lower:
            raise ConfigError(
                f"{origin}: {key}: column '{col}' is not in {path} (it has: "
                f"{', '.join(present[:20])}{', ...' if len(present) > 20 else ''})"
            )
        low = col.strip().lower()
        if low in ENGINE_COLUMNS or low.startswith("_"):
            raise ConfigError(
                f"{origin}: {key}: column '{col}' has a name the engine uses itself, so it "
                f"is kept as '{KEPT_PREFIX}{col.strip()}'; rename it in the input to declare it"
            )


def _mapping_sql(con, table: str, source: SourceConfig, path: Path) -> str:
    """The SELECT list of the canonical fields."""
    exprs = []
    default = source.default_source_system or path.stem
    default_sql = quote_literal(default)
    for field, col in _resolve_columns(con, table, source, path).items():
        if col is not None and field == "record_id":
            # kept exactly as given: it is the key back into the source system, and a
            # trimmed ' ID-003 ' would be an ID that system does not have
            exprs.append(f"CASE WHEN trim({_q(col)}) <> '' THEN {_q(col)} END AS record_id")
        elif col is not None and field == "source_system":
            # an empty source_system cell gets the same default as a missing column
            exprs.append(f"coalesce(NULLIF(trim({_q(col)}), ''), {default_sql}) AS {field}")
        elif col is not None:
            exprs.append(f"NULLIF(trim({_q(col)}), '') AS {field}")
        elif field == "source_system":
            exprs.append(f"{default_sql} AS source_system")
        else:
            exprs.append(f"CAST(NULL AS VARCHAR) AS {field}")
    return ", ".join(exprs)


def _kept_sql(con, table: str, source: SourceConfig, path: Path,
              reserved: set[str]) -> tuple[str, dict[str, str]]:
    """The SELECT list of the input columns kept beside the canonical fields (none: ''),
    and those renamed because the engine uses their names (input name -> kept name)."""
    resolved = _resolve_columns(con, table, source, path)
    identity = {f: c for f, c in resolved.items() if c is not None and c.strip().lower() == f}
    kept = _passthrough(con, table, identity, reserved)
    sql = "".join(f", {_q(c)} AS {_q(k)}" for c, k in kept.items())
    return sql, {c: k for c, k in kept.items() if c != k}


# Characters a record ID must not contain: C0/C1 controls (NUL, tab, newline, ...),
# format characters (zero-width space and joiners, BOM, soft hyphen, ...) and the line
# and paragraph separators. They are invisible in every tool a steward uses, so two IDs
# that look the same would be different keys.
_BAD_ID_CHAR = r"[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]"
_EDGE_SPACE = r"^[\s\p{Z}]|[\s\p{Z}]$"
_CHAR_NAMES = {
    0: "NUL", 9: "tab", 10: "line feed", 13: "carriage return", 0x7F: "delete",
    0xAD: "soft hyphen", 0x200B: "zero-width space", 0x200C: "zero-width non-joiner",
    0x200D: "zero-width joiner", 0x2060: "word joiner", 0xFEFF: "byte-order mark",
}


def _bad_id_reason_sql(ch: str) -> str:
    names = " ".join(f"WHEN {k} THEN ', {v}'" for k, v in _CHAR_NAMES.items())
    return (
        f"'record_id contains ' || CASE WHEN regexp_matches({ch}, '\\p{{Cc}}') "
        f"THEN 'a control' ELSE 'an invisible' END || ' character (' "
        f"|| printf('U+%04X', unicode({ch})) || CASE unicode({ch}) {names} ELSE '' END || ')'"
    )


def ingest(
    con: duckdb.DuckDBPyConnection,
    inputs: list[str | Path],
    source: SourceConfig,
    encoding: str | None = None,
    sheet: str | None = None,
    fields: dict[str, FieldConfig] | None = None,
    origin: str = "config",
) -> IngestResult:
    """Read every input, map to canonical fields, keep the other input columns beside them,
    and split usable rows from rejected ones.

    `fields` (the config's declared fields) must each find their column in every input, else
    a ConfigError naming `origin` (the config file) and the key. Creates `raw_records`
    (usable rows) and `rejected` (every other row, with the reason:
    an empty record_id, one with a control or invisible character, a field Excel stored
    as a number too long for it, a field longer than MAX_FIELD_CHARS, or a duplicate
    record_id; of usable rows sharing an ID the first is kept, later ones rejected).
    Record IDs are kept exactly as given; those with surrounding spaces are counted and
    reported in the result's warnings.
    """
    check_sheet_option(inputs, sheet)
    fields = fields or {}
    reserved = _reserved_names(fields, origin)
    parts, kept_parts = [], []
    excel_columns: dict[str, str] = {}  # "file: field" -> the column it came from
    renamed: dict[str, str] = {}
    declared = {col.strip().lower() for _n, col, _k in _declared_inputs(fields)}
    for i, path in enumerate(inputs):
        p = Path(path)
        table = f"_input_{i}"
        read_input(con, p, table, encoding or source.encoding, sheet)
        _resolve_columns(con, table, source, p, origin)  # a mapped column it lacks: refused
        _check_declared(con, table, fields, p, origin)
        cols = _mapping_sql(con, table, source, p)
        kept, kept_as = _kept_sql(con, table, source, p, reserved)
        renamed.update(kept_as)
        # The kept columns stay in `_input_i` until the end (`_kept`): carried through
        # every step below, a wide input cost a copy of all its columns per step. Of them,
        # only declared fields are standardized, so only they are checked for length here.
        own = [c for c in columns(con, table) if c.strip().lower() in declared
               and c.strip().lower() not in CANONICAL_FIELDS]
        own_long = ("concat_ws(', ', " + ", ".join(
            f"CASE WHEN length({_q(c)}) > {MAX_FIELD_CHARS} THEN {quote_literal(c.strip())} END"
            for c in own) + ")") if own else "CAST(NULL AS VARCHAR)"
        kept_parts.append(f"SELECT {i} AS _input_no, rowid + 1 AS _row{kept} FROM {table}")
        if EXCEL_NUMBER_COLUMN in columns(con, table):
            mapped = _resolve_columns(con, table, source, p)
            flags = [
                f"CASE WHEN list_contains({_q(EXCEL_NUMBER_COLUMN)}, {quote_literal(c)}) "
                f"THEN '{f}' END"
                for f, c in mapped.items() if c is not None
            ]
            excel = f"NULLIF(concat_ws(', ', {', '.join(flags)}), '')"
            excel_columns.update({f"{p.name}: {f}": c for f, c in mapped.items() if c})
        else:
            excel = "CAST(NULL AS VARCHAR)"
        # _row: the row in the file (a table read from it keeps the file's order in rowid)
        parts.append(
            f"SELECT {cols}, rowid + 1 AS _row, {quote_literal(p.name)} "
            f"AS _input, {i} AS _input_no, {excel} AS _excel, {own_long} AS _too_long_own "
            f"FROM {table}"
        )
    con.execute("CREATE OR REPLACE TABLE _mapped AS " + " UNION ALL ".join(parts))
    # by name: inputs with different columns each leave the others' empty
    con.execute("CREATE OR REPLACE TEMP VIEW _kept AS " + " UNION ALL BY NAME ".join(kept_parts))
    extra = [c for c in columns(con, "_kept") if c not in ("_input_no", "_row")]
    fields_sql = ", ".join(CANONICAL_FIELDS)
    out_cols = ", ".join([*(f"x.{f}" for f in CANONICAL_FIELDS), *(f"k.{_q(c)}" for c in extra)])
    with_kept = ("LEFT JOIN _kept k ON k._input_no = x._input_no AND k._row = x._row"
                 if extra else "")
    too_long = "concat_ws(', ', " + ", ".join(
        [f"CASE WHEN length({f}) > {MAX_FIELD_CHARS} THEN '{f}' END" for f in CANONICAL_FIELDS]
        + ["_too_long_own"]) + ")"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE _checked AS
        SELECT * EXCLUDE (_bad_char, _too_long, _too_long_own),
               CASE WHEN record_id IS NULL THEN 'empty record_id'
                    WHEN _bad_char IS NOT NULL THEN {_bad_id_reason_sql('_bad_char')}
                    WHEN _excel IS NOT NULL
                    THEN _excel || ' ' || {quote_literal(EXCEL_NUMBER_REASON)}
                    WHEN _too_long IS NOT NULL
                    THEN 'field longer than {MAX_FIELD_CHARS:,} characters: ' || _too_long
               END AS _problem
        FROM (SELECT *, NULLIF(regexp_extract(record_id, '{_BAD_ID_CHAR}'), '') AS _bad_char,
                     NULLIF({too_long}, '') AS _too_long
              FROM _mapped)
        """
    )
    # duplicates among the usable rows only: a rejected first row does not make the
    # next one with its ID a duplicate of nothing
    con.execute(
        """
        CREATE OR REPLACE TABLE _ranked AS
        SELECT *,
               row_number() OVER (PARTITION BY record_id ORDER BY _input_no, _row) AS _occurrence,
               first_value(_input || ' row ' || _row) OVER (
                   PARTITION BY record_id ORDER BY _input_no, _row) AS _first_at
        FROM _checked WHERE _problem IS NULL
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE rejected AS
        SELECT {out_cols}, x._input, x._row, x.reason FROM (
            SELECT {fields_sql}, _input, _row, _input_no, _problem AS reason
            FROM _checked WHERE _problem IS NOT NULL
            UNION ALL
            SELECT {fields_sql}, _input, _row, _input_no,
                   'duplicate record_id (first occurrence kept: ' || _first_at || ')'
            FROM _ranked WHERE _occurrence > 1) x
        {with_kept}
        ORDER BY x._input_no, x._row
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE raw_records AS
        SELECT {out_cols}, x._input, x._row FROM _ranked x {with_kept}
        WHERE x._occurrence = 1
        ORDER BY x._input_no, x._row
        """
    )
    con.execute("DROP VIEW _kept")
    for i in range(len(inputs)):
        con.execute(f"DROP TABLE IF EXISTS _input_{i}")
    rows_in = scalar(con, "SELECT count(*) FROM _mapped")
    warnings = _warnings(con, excel_columns)
    if renamed:
        shown = ", ".join(f"'{c}' as '{k}'" for c, k in list(renamed.items())[:10])
        warnings.append(
            f"input column(s) kept under another name in records: {shown} (the engine "
            "uses those names itself)"
        )
    spaces = scalar(
        con, f"SELECT count(*) FROM raw_records WHERE regexp_matches(record_id, '{_EDGE_SPACE}')"
    )
    con.execute("DROP TABLE _mapped; DROP TABLE _checked; DROP TABLE _ranked")
    accepted = scalar(con, "SELECT count(*) FROM raw_records")
    rejected = rows_in - accepted
    if accepted == 0:
        first = con.execute("SELECT _input, _row, reason FROM rejected LIMIT 1").fetchone()
        raise InputError(
            f"all {rows_in} input rows were rejected (the first, {first[0]} row {first[1]}: "
            f"{first[2]}); see the reasons with `er profile`, and check the record_id column "
            "mapping in source.columns"
        )
    return IngestResult(rows_in=rows_in, accepted=accepted, rejected=rejected,
                        record_ids_with_spaces=spaces, warnings=tuple(warnings))


def check_config_columns(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Every column the config's model, clustering and survivorship name exists once the
    ingested `raw_records` are standardized, and every SQL expression in a blocking rule
    runs on them: checked on the ingested columns, before standardizing or scoring, so a
    typo is one ConfigError naming the config file and the key, not a Splink failure (or a
    KeyError after scoring)."""
    from resolution.standardize.columns import STD_COLUMNS, declared_columns  # as _reserved_names

    origin = config.origin
    have = {r[0]: r[1] for r in con.execute("DESCRIBE raw_records").fetchall()}
    inputs = [c for c in have if c not in ("_input", "_row") and c not in CANONICAL_FIELDS]
    have |= STD_COLUMNS | declared_columns(config.fields, origin) | {"quality_score": "DOUBLE"}
    lower = {c.lower() for c in have}
    probe = "_config_columns_probe"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {probe} ("
                + ", ".join(f"{_q(c)} {t}" for c, t in have.items()) + ")")
    try:
        for key, ref in referenced_columns(config):
            if is_column_name(ref):
                if ref.lower() not in lower:
                    raise ConfigError(
                        f"{origin}: {key}: no column '{ref}' in the input or the standardized "
                        f"records (besides the customer fields, the input has: "
                        f"{', '.join(inputs[:25]) or 'no other column'}"
                        f"{', ...' if len(inputs) > 25 else ''}; a field declared under "
                        "`fields` adds its standardized columns, e.g. NAME_std)"
                    )
                continue
            try:
                con.execute(f"SELECT {ref} FROM {probe}").fetchall()
            except duckdb.Error as exc:
                first = str(exc).splitlines()[0]
                raise ConfigError(f"{origin}: {key}: the SQL expression {ref!r} does not run "
                                  f"on the records ({first})")
        _check_comparison_levels(con, config, have)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {probe}")


def _check_comparison_levels(con: duckdb.DuckDBPyConnection, config: Config,
                             have: dict[str, str]) -> None:
    """Every comparison level's SQL binds on a pair of records with these columns and
    types (an empty table: DuckDB checks names, functions and types without data), so
    a `levels` condition on a list that is text, or a Splink date comparison of a text
    column, is one ConfigError naming the level, not a Splink failure during training."""
    probe = "_config_pairs_probe"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {probe} ("
                + ", ".join(f"{_q(c + side)} {t}" for c, t in have.items()
                            for side in ("_l", "_r")) + ")")
    try:
        settings = build_settings(config, parties=False)
        for i, (cc, comp) in enumerate(zip(config.model.comparisons, settings["comparisons"])):
            for j, level in enumerate(comp["comparison_levels"]):
                sql = level["sql_condition"]
                if sql.strip().upper() == "ELSE":
                    continue
                try:
                    con.execute(f"SELECT CASE WHEN {sql} THEN 1 END FROM {probe}").fetchall()
                except duckdb.Error as exc:
                    first = str(exc).splitlines()[0]
                    user = cc.levels is not None and 0 < j <= len(cc.levels)
                    key = (f"model.comparisons.{i}.levels.{j - 1}.sql" if user
                           else f"model.comparisons.{i}")
                    raise ConfigError(
                        f"{config.origin}: {key}: level '{level['label_for_charts']}' of "
                        f"comparison '{cc.name}' does not run on the records: {sql!r} "
                        f"({first})")
    finally:
        con.execute(f"DROP TABLE IF EXISTS {probe}")


def _warnings(con, excel_columns: dict[str, str]) -> list[str]:
    """What the user should hear about even though the job goes on."""
    out = []
    # where, not the value: warnings reach quality.json, which is logged to MLflow
    n, at = con.execute(
        f"""SELECT count(*), arg_min(_input || ' row ' || _row, (_input_no, _row))
            FROM _ranked WHERE _occurrence = 1 AND regexp_matches(record_id, '{_EDGE_SPACE}')"""
    ).fetchone()
    if n:
        out.append(
            f"{n:,} record_id(s) have leading or trailing spaces (the first at {at}); kept "
            "exactly as given, as keys back into the source system"
        )
    n = scalar(con, "SELECT count(*) FROM _checked WHERE _problem LIKE 'record_id contains %'")
    if n:
        out.append(f"{n:,} row(s) rejected: record_id contains a control or invisible "
                   "character (the reasons are in the rejected table)")
    for file, field, n in con.execute(
        """SELECT _input, f, count(*) FROM (
               SELECT _input, _input_no, unnest(string_split(_excel, ', ')) AS f
               FROM _checked WHERE _excel IS NOT NULL)
           GROUP BY _input, _input_no, f ORDER BY _input_no, f"""
    ).fetchall():
        col = excel_columns.get(f"{file}: {field}", field)
        out.append(f"{file}: {n:,} row(s) rejected: column '{col}' ({field}) "
                   f"{EXCEL_NUMBER_REASON}")
    return out
