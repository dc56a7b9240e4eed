"""No silent loss at ingest: every worksheet accounted for, duplicate column names refused,
record IDs never altered (control and invisible characters rejected with the reason,
surrounding spaces kept and reported), and Excel numbers that lost digits flagged.

Driven through the CLI (`er profile`, and `er dedup` for the job outputs) on real CSV
and xlsx files; the Python API `ingest` shows the `rejected` table's reasons.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd

from resolution.config import load_config
from resolution.ingest import ingest
from tests.conftest import CONFIG, run_cli

HEADER = ["record_id", "source_system", "customer_name", "mobile", "address", "id_card"]


def _rows(n: int, prefix: str = "CRM", start: int = 0):
    return [[f"{prefix}-{i:04d}", prefix, f"上海星辰贸易有限公司{i}", f"138{i:08d}",
             "上海市浦东新区张江路100号", "11010119900101123X"] for i in range(start, start + n)]


def _csv(path: Path, rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def _xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def _profile(tmp: Path, path: Path, *extra, expect: int | None = 0):
    out = tmp / "dq"
    r = run_cli("profile", "--config", CONFIG, "--input", path, "--out", out, *extra,
                expect=expect)
    report = json.loads((out / "quality.json").read_text("utf-8")) if r.exit_code == 0 else None
    return r, report


def _one_error(r) -> str:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    errors = [x for x in r.output.splitlines() if x.startswith("error:")]
    assert len(errors) == 1, r.output
    return errors[0]


def _warnings(r) -> list[str]:
    return [x for x in r.output.splitlines() if x.startswith("warning:")]


def _ingest(path: Path):
    con = duckdb.connect()
    res = ingest(con, [path], load_config(CONFIG).source)
    return con, res


# --- worksheets -------------------------------------------------------------------


def test_workbook_with_two_data_sheets_is_refused_unless_one_is_named(tmp_path):
    p = _xlsx(tmp_path / "two.xlsx", {
        "华东": [HEADER, *_rows(100)],
        "华南": [HEADER, *_rows(60, start=100)],
        "空白": [],
    })
    err = _one_error(_profile(tmp_path, p, expect=2)[0])
    assert "华东" in err and "华南" in err and "--sheet" in err
    assert "空白" not in err  # a sheet without cells is not data
    _, report = _profile(tmp_path, p, "--sheet", "华南")
    assert report["records"] + report["rejected"] == 60
    _, report = _profile(tmp_path, p, "--sheet", "华东")
    assert report["records"] + report["rejected"] == 100
    err = _one_error(_profile(tmp_path, p, "--sheet", "华北", expect=2)[0])
    assert "华北" in err and "华东" in err and "华南" in err
    # --sheet names a worksheet of the Excel inputs; with none it is a mistake, not ignored
    c = _csv(tmp_path / "in.csv", [HEADER, *_rows(3)])
    err = _one_error(_profile(tmp_path, c, "--sheet", "华南", expect=2)[0])
    assert "--sheet" in err


def test_data_on_a_later_sheet_is_read(tmp_path):
    p = _xlsx(tmp_path / "later.xlsx", {"说明": [], "客户": [HEADER, *_rows(7)]})
    _, report = _profile(tmp_path, p)
    assert report["records"] + report["rejected"] == 7


# --- duplicate column names -------------------------------------------------------


def test_duplicate_column_names_in_csv_are_refused_naming_them(tmp_path):
    rows = [r + ["另一个名称"] for r in _rows(3)]
    p = _csv(tmp_path / "dup.csv", [HEADER + ["customer_name"], *rows])
    err = _one_error(_profile(tmp_path, p, expect=2)[0])
    assert "duplicate column" in err and "customer_name" in err
    # names that differ only by case or surrounding spaces are the same column to the
    # mapping (and to DuckDB): refused too
    p = _csv(tmp_path / "case.csv", [HEADER + [" Mobile "], *[r + ["139"] for r in _rows(3)]])
    err = _one_error(_profile(tmp_path, p, expect=2)[0])
    assert "duplicate column" in err and "mobile" in err.lower()


def test_duplicate_column_names_in_xlsx_are_refused_naming_them(tmp_path):
    rows = [r + ["13900000000"] for r in _rows(3)]
    p = _xlsx(tmp_path / "dup.xlsx", {"客户": [HEADER + ["mobile"], *rows]})
    err = _one_error(_profile(tmp_path, p, expect=2)[0])
    assert "duplicate column" in err and "mobile" in err


# --- record IDs -------------------------------------------------------------------


def test_record_ids_with_control_or_invisible_characters_are_rejected(tmp_path):
    rows = _rows(8)
    rows[1][0] = "CRM-\t0001"
    rows[2][0] = "CRM-0002\u200b"
    rows[3][0] = "CRM-\ufeff0003"
    rows[4][0] = "CRM-00\x0004"
    rows[5][0] = "CRM-00\u200d05"
    p = _csv(tmp_path / "ids.csv", [HEADER, *rows])
    r, report = _profile(tmp_path, p)
    assert (report["records"], report["rejected"]) == (3, 5)
    assert any("control or invisible" in w for w in _warnings(r)), r.output
    con, _ = _ingest(p)
    reasons = dict(con.execute("SELECT record_id, reason FROM rejected").fetchall())
    assert reasons["CRM-\t0001"] == "record_id contains a control character (U+0009, tab)"
    assert reasons["CRM-0002\u200b"] == (
        "record_id contains an invisible character (U+200B, zero-width space)")
    assert "U+FEFF" in reasons["CRM-\ufeff0003"]
    assert "U+0000" in reasons["CRM-00\x0004"]
    assert "U+200D" in reasons["CRM-00\u200d05"]
    # none of them reached the records under another spelling
    kept = {x for (x,) in con.execute("SELECT record_id FROM raw_records").fetchall()}
    assert kept == {"CRM-0000", "CRM-0006", "CRM-0007"}


def test_record_ids_are_kept_exactly_and_surrounding_spaces_reported(tmp_path):
    rows = _rows(4)
    rows[1][0] = " CRM-0000 "  # not the same key as CRM-0000 in the source system
    rows[2][0] = "CRM-0002\u3000"  # a full-width space
    p = _csv(tmp_path / "sp.csv", [HEADER, *rows])
    r, report = _profile(tmp_path, p)
    assert (report["records"], report["rejected"]) == (4, 0)
    w = [x for x in _warnings(r) if "leading or trailing spaces" in x]
    assert len(w) == 1 and "2 record_id" in w[0], r.output
    con, res = _ingest(p)
    kept = sorted(x for (x,) in con.execute("SELECT record_id FROM raw_records").fetchall())
    assert kept == [" CRM-0000 ", "CRM-0000", "CRM-0002\u3000", "CRM-0003"]
    assert res.record_ids_with_spaces == 2


# --- Excel numbers ----------------------------------------------------------------


def test_excel_numbers_that_lost_digits_are_rejected_with_the_reason(tmp_path):
    rows = _rows(5)
    rows[1][5] = 1.10101199001011e17  # an 18-digit ID card typed into Excel as a number
    rows[2][5] = 110101199001011234  # the same written by a program: Excel cannot hold it
    rows[3][0] = 123456789012345678  # a record_id stored as a number
    rows[4][3] = 13812345678  # an 11-digit mobile as a number is exact: kept
    p = _xlsx(tmp_path / "n.xlsx", {"客户": [HEADER, *rows]})
    r, report = _profile(tmp_path, p)
    assert (report["records"], report["rejected"]) == (2, 3)
    assert any("id_card" in w and "Excel" in w for w in _warnings(r)), r.output
    con, _ = _ingest(p)
    reasons = [x for (x,) in con.execute("SELECT reason FROM rejected ORDER BY _row").fetchall()]
    assert all("stored as a number in Excel" in x and "format the column as text" in x
               for x in reasons), reasons
    assert reasons[0].startswith("id_card") and reasons[2].startswith("record_id")
    kept = dict(con.execute("SELECT record_id, mobile FROM raw_records").fetchall())
    assert kept == {"CRM-0000": "13800000000", "CRM-0004": "13812345678"}


def test_dedup_reports_ingest_warnings_in_summary(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    df = pd.read_csv(customers, dtype=str).head(200)
    df.loc[0, "record_id"] = " " + df.loc[0, "record_id"]
    df.loc[1, "record_id"] = df.loc[1, "record_id"] + "\u200b"
    src = tmp_path / "in.xlsx"
    df.to_excel(src, index=False)
    wb = openpyxl.load_workbook(src)
    wb.active.cell(row=4, column=1 + list(df.columns).index("id_card"), value=1.10101199001011e17)
    wb.save(src)
    out = tmp_path / "out"
    r = run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", src,
                "--out", out)
    assert len(_warnings(r)) == 3, r.output
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["rejected"] == 2 and summary["record_ids_with_spaces"] == 1
    assert len(summary["warnings"]) == 3
    con = duckdb.connect(str(out / "job.duckdb"), read_only=True)
    ids = {x for (x,) in con.execute("SELECT record_id FROM crosswalk").fetchall()}
    assert df.loc[0, "record_id"] in ids and len(ids) == 198


def test_check_input_refuses_excel_numbers_and_ambiguous_workbooks(tmp_path):
    # `er check` validates its records before it opens the store or the model
    args = ("check", "--store", tmp_path / "none.duckdb", "--model", tmp_path / "none.json",
            "--config", CONFIG, "--input")
    form = [["customer_name", "mobile", "id_card"], ["上海星辰贸易有限公司", "13812345678",
                                                   1.10101199001011e17]]
    p = _xlsx(tmp_path / "form.xlsx", {"表单": form})
    err = _one_error(run_cli(*args, p, expect=2))
    assert "id_card" in err and "stored as a number in Excel" in err
    p = _xlsx(tmp_path / "two.xlsx", {"A": form[:1] + [form[1][:2]], "B": form[:1]})
    err = _one_error(run_cli(*args, p, expect=2))
    assert "'A'" in err and "'B'" in err and "--sheet" in err
