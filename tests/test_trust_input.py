"""Hostile input through the CLI (`er profile`: ingest, standardize, report).

Every case either ingests every record (accepted + rejected = the rows written) or ends
with one `error:` line and a non-zero exit: never a traceback, a hang or a silently
dropped record. `pytest -s tests/test_trust_input.py` prints each class and its outcome.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from resolution.cli import app
from tests.conftest import CONFIG

HEADER = ["record_id", "source_system", "customer_name", "mobile", "address", "updated_at"]
OUTCOMES: list[tuple[str, str]] = []


def _run(tmp: Path, path: Path, *extra: str, config: Path = CONFIG):
    out = tmp / f"out-{time.monotonic_ns()}"
    t0 = time.monotonic()
    r = CliRunner().invoke(app, ["profile", "--config", str(config), "--input", str(path),
                                 "--out", str(out), *extra])
    took = time.monotonic() - t0
    assert took < 60, f"{path.name}: took {took:.0f}s"
    if r.exit_code == 0:
        report = json.loads((out / "quality.json").read_text("utf-8"))
        return "ok", report["records"] + report["rejected"], r.output
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), (
        f"{path.name}: traceback {r.exception!r}\n{r.output}"
    )
    lines = [x for x in r.output.splitlines() if x.strip()]
    errors = [x for x in lines if x.startswith("error:")]
    assert r.exit_code != 0 and len(errors) == 1, (path.name, r.exit_code, r.output)
    assert "Traceback" not in r.output
    return "error", errors[0], r.output


def _record(cls: str, outcome: str) -> None:
    OUTCOMES.append((cls, outcome))
    print(f"[hostile input] {cls}: {outcome}")


def _csv(path: Path, rows, encoding="utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows(rows)
    return path


def _rows(n: int, **override):
    return [[f"CRM-{i:04d}", "CRM", override.get("name", f"上海星辰贸易有限公司{i}"),
             "13812345678", "上海市浦东新区张江路100号", "2025-01-01"] for i in range(n)]


def _expect_all(cls, tmp, path, n, *extra):
    kind, got, out = _run(tmp, path, *extra)
    assert kind == "ok", (cls, got, out)
    assert got == n, f"{cls}: {n} rows written, {got} ingested (accepted + rejected)"
    _record(cls, f"ingested, {got}/{n} rows accounted for")


def _expect_error(cls, tmp, path, *extra, config=CONFIG):
    kind, got, out = _run(tmp, path, *extra, config=config)
    assert kind == "error", (cls, out)
    _record(cls, f"refused: {got[:150]}")


def test_embedded_newlines_quotes_and_commas(tmp_path):
    rows = _rows(5)
    rows[1][2] = '上海"星辰"贸易\n有限公司, 二部'
    rows[2][4] = 'line1\r\nline2 "quoted" ,,'
    rows[3][2] = '"'
    _expect_all("embedded newlines, quotes, commas", tmp_path,
                _csv(tmp_path / "nl.csv", [HEADER, *rows]), 5)


def test_nul_bytes(tmp_path):
    rows = _rows(4)
    rows[1][2] = "上海\x00星辰"
    _expect_all("NUL byte inside a field", tmp_path, _csv(tmp_path / "nul.csv", [HEADER, *rows]), 4)


def test_one_megabyte_field(tmp_path):
    rows = _rows(3)
    rows[1][4] = "上海" * 200_000 + "x" * 500_000  # 1.7 MB in UTF-8
    _expect_all("1 MB field", tmp_path, _csv(tmp_path / "big.csv", [HEADER, *rows]), 3)
    import duckdb

    from resolution.config import load_config
    from resolution.ingest import ingest

    con = duckdb.connect()
    res = ingest(con, [tmp_path / "big.csv"], load_config(CONFIG).source)
    reason = con.execute("SELECT record_id, reason FROM rejected").fetchall()
    assert (res.accepted, res.rejected) == (2, 1) and reason[0][0] == "CRM-0001"
    assert "longer than 10,000 characters: address" in reason[0][1]


def test_ten_thousand_columns(tmp_path):
    extra = [f"x{i}" for i in range(10_000 - len(HEADER))]
    rows = [r + ["v"] * len(extra) for r in _rows(3)]
    _expect_all("10,000 columns", tmp_path, _csv(tmp_path / "wide.csv", [HEADER + extra, *rows]), 3)


def test_header_only(tmp_path):
    _expect_error("header only", tmp_path, _csv(tmp_path / "h.csv", [HEADER]))
    _expect_error("empty file", tmp_path, _csv(tmp_path / "e.csv", []))


def test_wrong_encodings(tmp_path):
    p = _csv(tmp_path / "gbk.csv", [HEADER, *_rows(3)], encoding="gbk")
    _expect_error("GBK file read as --encoding utf-8", tmp_path, p, "--encoding", "utf-8")
    _expect_all("GBK file, encoding detected", tmp_path, p, 3)
    p = _csv(tmp_path / "u16.csv", [HEADER, *_rows(3)], encoding="utf-16")
    _expect_error("UTF-16 file", tmp_path, p)
    p = _csv(tmp_path / "u8.csv", [HEADER, *_rows(3)])
    _expect_error("UTF-8 file named --encoding gbk", tmp_path, p, "--encoding", "gbk")
    _expect_error("unknown --encoding", tmp_path, p, "--encoding", "latin-9")


def test_unbalanced_quote_does_not_swallow_records(tmp_path):
    p = tmp_path / "q.csv"
    lines = [",".join(HEADER)] + [",".join(r) for r in _rows(6)]
    lines[2] = lines[2].replace("上海星辰", '"上海星辰', 1)  # opening quote never closed
    p.write_text("\n".join(lines) + "\n", "utf-8")
    kind, got, out = _run(tmp_path, p)
    if kind == "ok":
        assert got == 6, f"unbalanced quote: 6 rows written, {got} ingested"
        _record("unbalanced quote", f"ingested, {got}/6 rows accounted for")
    else:
        assert "unbalanced quote" in got, got
        _record("unbalanced quote", f"refused: {got[:150]}")


def test_excel_formulas_and_mixed_types(tmp_path):
    import datetime

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["CRM-1", "CRM", "=HYPERLINK(\"http://x\",\"点我\")", 13812345678, "上海市", datetime.datetime(2025, 1, 1)])
    ws.append(["CRM-2", "CRM", "=1+1", "138-1234-5679", "上海市", "2025-01-02"])
    ws.append([3, "CRM", "北京公司", 1.38123456e10, "=A1&B1", 45000])
    ws.append(["CRM-4", "CRM", True, None, "北京市", None])
    p = tmp_path / "f.xlsx"
    wb.save(p)
    _expect_all("Excel formulas and mixed types in one column", tmp_path, p, 4)


def test_not_really_excel_or_parquet(tmp_path):
    for name, data in (("fake.xlsx", b"PK\x03\x04 not a zip"), ("fake.parquet", b"PAR1 nope"),
                       ("pic.png", b"\x89PNG"), ("dir.csv", None)):
        p = tmp_path / name
        if data is None:
            p.mkdir()
        else:
            p.write_bytes(data)
        _expect_error(f"bad file: {name}", tmp_path, p)


def test_hostile_configs(tmp_path):
    data = _csv(tmp_path / "ok.csv", [HEADER, *_rows(2)])
    cases = {
        "config: random bytes": b"\x00\xff\xfe garbage \x81",
        "config: YAML list": b"- a\n- b\n",
        "config: unknown key": b"nonsense: 1\n",
        "config: wrong type": (CONFIG.read_text("utf-8").replace("completeness_min: 0.95",
                                                                    "completeness_min: lots")).encode(),
        "config: unclosed bracket": b"source: {columns: [\n",
    }
    for cls, text in cases.items():
        c = tmp_path / f"{len(OUTCOMES)}.yaml"
        c.write_bytes(text)
        _expect_error(cls, tmp_path, data, config=c)
    _expect_error("config: missing file", tmp_path, data, config=tmp_path / "none.yaml")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=2000))
def test_random_bytes(tmp_path, blob):
    p = tmp_path / "rand.csv"
    p.write_bytes(blob)
    kind, got, out = _run(tmp_path, p)
    # random bytes rarely carry a record_id column: an error line, or (if it does) all rows
    _record("random bytes", kind if kind == "error" else f"ingested {got}")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(max_size=30), min_size=6, max_size=6), min_size=1, max_size=8))
def test_random_text_cells(tmp_path, cells):
    rows = [[f"R-{i}", *r[1:]] for i, r in enumerate(cells)]
    p = _csv(tmp_path / "cells.csv", [HEADER, *rows])
    kind, got, out = _run(tmp_path, p)
    assert kind == "ok" and got == len(rows), (kind, got, rows, out)
    _record("random text cells (any unicode, quotes, newlines, NUL)", f"ingested {got}/{len(rows)}")
