"""Ingest: encodings, file types, rejected rows and clear errors."""

import duckdb
import pandas as pd
import pytest

from resolution.config import SourceConfig
from resolution.errors import InputError
from resolution.ingest import ingest

ROWS = [
    {"record_id": "A1", "source_system": "CRM", "customer_name": "上海华联超市有限公司", "mobile": "13812345678"},
    {"record_id": "A2", "source_system": "HKTW", "customer_name": "華聯超市（上海）有限公司", "mobile": "＋８６ １３８１２３４５６７８"},
    {"record_id": "A3", "source_system": "ERP", "customer_name": "永辉超市（张江店）", "mobile": None},
]


def _csv(tmp_path, rows=ROWS, encoding="utf-8", name="in.csv"):
    p = tmp_path / name
    pd.DataFrame(rows).to_csv(p, index=False, encoding=encoding)
    return p


def _names(con):
    return [r[0] for r in con.execute("SELECT customer_name FROM raw_records ORDER BY record_id").fetchall()]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_read_identically(tmp_path, encoding):
    con = duckdb.connect()
    res = ingest(con, [_csv(tmp_path, ROWS, encoding)], SourceConfig())
    assert res.accepted == len(ROWS)
    assert _names(con) == [r["customer_name"] for r in ROWS]


def test_gbk_traditional_and_fullwidth(tmp_path):
    con = duckdb.connect()
    ingest(con, [_csv(tmp_path, ROWS, "gb18030")], SourceConfig())
    assert "華聯超市（上海）有限公司" in _names(con)


def test_wrong_named_encoding_is_refused_not_garbled(tmp_path):
    p = _csv(tmp_path, ROWS, "utf-8")
    with pytest.raises(InputError, match="is valid UTF-8"):
        ingest(duckdb.connect(), [p], SourceConfig(), encoding="gbk")
    g = _csv(tmp_path, ROWS, "gb18030", name="g.csv")
    with pytest.raises(InputError, match="gb18030"):
        ingest(duckdb.connect(), [g], SourceConfig(), encoding="utf-8")


def test_undecodable_bytes(tmp_path):
    p = tmp_path / "junk.csv"
    p.write_bytes(b"record_id,name\n1,\xff\xfe\xfa\xfb\x80\x81\n")
    with pytest.raises(InputError, match="neither UTF-8 nor GBK"):
        ingest(duckdb.connect(), [p], SourceConfig())


def test_xlsx_and_parquet(tmp_path):
    x = tmp_path / "in.xlsx"
    pd.DataFrame(ROWS).to_excel(x, index=False)
    con = duckdb.connect()
    ingest(con, [x], SourceConfig())
    assert _names(con) == [r["customer_name"] for r in ROWS]
    q = tmp_path / "in.parquet"
    pd.DataFrame(ROWS).to_parquet(q, index=False)
    con = duckdb.connect()
    ingest(con, [q], SourceConfig())
    assert _names(con) == [r["customer_name"] for r in ROWS]


def test_empty_and_duplicate_ids_are_rejected_rest_proceed(tmp_path):
    rows = ROWS + [
        {"record_id": "A1", "source_system": "SHOP", "customer_name": "dup"},
        {"record_id": "", "source_system": "SHOP", "customer_name": "no id"},
        {"record_id": "   ", "source_system": "SHOP", "customer_name": "blank id"},
    ]
    con = duckdb.connect()
    res = ingest(con, [_csv(tmp_path, rows)], SourceConfig())
    assert (res.rows_in, res.accepted, res.rejected) == (6, 3, 3)
    rej = con.execute("SELECT customer_name, reason FROM rejected ORDER BY _row").fetchall()
    assert rej[0][0] == "dup" and rej[0][1].startswith("duplicate record_id")
    assert "in.csv row 1" in rej[0][1]
    assert [r[1] for r in rej[1:]] == ["empty record_id", "empty record_id"]
    assert _names(con)[0] == "上海华联超市有限公司"  # the first occurrence is the one kept


def test_column_mapping_and_missing_columns(tmp_path):
    p = _csv(tmp_path, [{"客户编号": "1", "客户名称": "华联"}])
    con = duckdb.connect()
    ingest(con, [p], SourceConfig(columns={"record_id": "客户编号", "customer_name": "客户名称"}))
    assert _names(con) == ["华联"]
    # source_system falls back to the file name when there is no such column
    assert con.execute("SELECT source_system FROM raw_records").fetchall() == [("in",)]
    with pytest.raises(InputError, match="'电话'.*mapped to 'phone'"):
        ingest(duckdb.connect(), [p], SourceConfig(columns={"record_id": "客户编号", "phone": "电话"}))
    with pytest.raises(InputError, match="required column 'record_id'"):
        ingest(duckdb.connect(), [p], SourceConfig())


@pytest.mark.parametrize(
    "content, message",
    [(b"", "is empty"), (b"record_id,customer_name\n", "no records")],
)
def test_empty_inputs(tmp_path, content, message):
    p = tmp_path / "e.csv"
    p.write_bytes(content)
    with pytest.raises(InputError, match=message):
        ingest(duckdb.connect(), [p], SourceConfig())


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        ingest(duckdb.connect(), [tmp_path / "nope.csv"], SourceConfig())
    j = tmp_path / "x.json"
    j.write_text("{}")
    with pytest.raises(InputError, match="unsupported file type"):
        ingest(duckdb.connect(), [j], SourceConfig())
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="cannot read as Excel"):
        ingest(duckdb.connect(), [bad], SourceConfig())
