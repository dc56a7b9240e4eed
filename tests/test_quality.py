"""The data-quality report: `er profile` and the report every `er dedup` writes."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pandas as pd
from conftest import CONFIG, run_cli


class _Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.svgs = 0
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "id" in a:
            self.ids.append(a["id"])
        if tag == "svg":
            self.svgs += 1
        for key in ("src", "href"):
            if a.get(key, "").startswith(("http:", "https:", "//")):
                self.external.append(a[key])


def test_profile_report_json_and_html(tmp_path, mlflow_store):
    rows = [
        {"record_id": "1", "source_system": "CRM", "customer_name": "上海华联超市有限公司",
         "mobile": "13812345678", "email": "a@b.cn", "address": "上海市浦东新区张江路1号"},
        {"record_id": "2", "source_system": "CRM", "customer_name": "華聯超市（上海）有限公司",
         "mobile": "12345", "email": "not-an-email", "address": None},
        {"record_id": "3", "source_system": "ERP", "customer_name": "永辉超市", "mobile": None,
         "email": None, "address": "北京市朝阳区建国路2号", "uscc": "91310000MA1FL00000"},
        {"record_id": "3", "source_system": "ERP", "customer_name": "dup id"},
    ]
    src = tmp_path / "in.csv"
    pd.DataFrame(rows).to_csv(src, index=False)
    out = tmp_path / "dq"
    r = run_cli("profile", "--config", CONFIG, "--input", src, "--out", out)
    assert "completeness of mobile" in r.output and "FAIL" in r.output
    report = json.loads((out / "quality.json").read_text(encoding="utf-8"))
    assert report["records"] == 3 and report["rejected"] == 1
    mobile = next(f for f in report["fields"] if f["field"] == "mobile")
    assert abs(mobile["completeness"] - 2 / 3) < 1e-9
    assert mobile["invalid_rate"] == 0.5  # "12345" is not a phone number
    email = next(f for f in report["fields"] if f["field"] == "email")
    assert email["invalid_rate"] == 0.5
    by_src = {(f["field"], f["source_system"]): f for f in report["fields_by_source"]}
    assert by_src[("mobile", "ERP")]["completeness"] == 0.0
    checks = {c["check"]: c for c in report["checks"]}
    assert checks["completeness of customer_name"]["passed"] is True
    assert checks["invalid rate of mobile"]["passed"] is False
    assert report["passed"] is False
    assert 0 <= report["mean_quality_score"] <= 1

    parser = _Sections()
    parser.feed((out / "quality.html").read_text(encoding="utf-8"))
    for section in ("summary", "checks", "completeness", "validity", "by-source", "uniqueness",
                    "duplicates", "scores"):
        assert section in parser.ids
    assert parser.svgs >= 3 and parser.external == []  # self-contained


def test_dedup_writes_quality_report_with_model_duplicate_rate(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    out = tmp_path / "job"
    run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", customers, "--out", out)
    report = json.loads((out / "quality.json").read_text(encoding="utf-8"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert report["duplicate_rate_method"] == "model"
    expected = (summary["accepted"] - summary["entities"]) / summary["accepted"]
    assert abs(report["duplicate_rate"] - expected) < 1e-9
    assert set(report["duplicate_rate_by_source"]) == {"CRM", "ERP", "SHOP", "HKTW", "OVERSEAS"}
    assert (out / "quality.html").stat().st_size > 1000


def test_profile_into_a_job_folder_leaves_the_jobs_report(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    out = tmp_path / "job"
    run_cli("dedup", "--config", CONFIG, "--model", trained_model, "--input", customers, "--out", out)
    run_cli("profile", "--config", CONFIG, "--input", customers, "--out", out)
    profiled = json.loads((out / "quality.json").read_text(encoding="utf-8"))
    job_own = json.loads((out / "current" / "quality.json").read_text(encoding="utf-8"))
    assert profiled["duplicate_rate_method"] != "model"
    assert job_own["duplicate_rate_method"] == "model"  # the job's run was not written through
