"""Data freshness (更新及时率) in the data-quality report."""

from __future__ import annotations

import csv
import datetime as dt
import json

from tests.conftest import CONFIG, run_cli

HEADER = ["record_id", "source_system", "customer_name", "mobile", "address", "updated_at"]


def _write(path, stamps):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i, s in enumerate(stamps):
            w.writerow([f"CRM-{i}", "CRM", f"上海星辰贸易有限公司{i}", "13812345678",
                        "上海市浦东新区张江路100号", s])


def _config(tmp_path, extra: str):
    text = CONFIG.read_text("utf-8").replace("track_in_mlflow: true", "track_in_mlflow: false")
    text = text.replace("  duplicate_max: 0.03", f"  duplicate_max: 0.03\n{extra}")
    p = tmp_path / "c.yaml"
    p.write_text(text, "utf-8")
    return p


def test_freshness_share_check_and_metric(tmp_path):
    from resolution.quality import metrics_for_mlflow

    today = dt.date.today()
    stamps = [str(today - dt.timedelta(days=d)) for d in (1, 10, 100, 200, 400, 800)]
    stamps += ["", "not a date", str(today + dt.timedelta(days=30))]  # 9 records, 4 fresh
    _write(tmp_path / "in.csv", stamps)
    cfg = _config(tmp_path, "  freshness_days: 365\n  freshness_min: 0.4")
    run_cli("profile", "--config", cfg, "--input", tmp_path / "in.csv", "--out", tmp_path / "o")
    report = json.loads((tmp_path / "o" / "quality.json").read_text("utf-8"))
    assert abs(report["freshness"] - 4 / 9) < 1e-9
    check = next(c for c in report["checks"] if c["check"].startswith("freshness"))
    assert check["check"] == "freshness (updated within 365 days)"
    assert check["passed"] is True and check["target"] == 0.4
    assert metrics_for_mlflow(report)["dq_freshness"] == report["freshness"]
    assert "更新及时率" in (tmp_path / "o" / "quality.html").read_text("utf-8")

    cfg = _config(tmp_path, "  freshness_days: 30")  # default target 0.98
    run_cli("profile", "--config", cfg, "--input", tmp_path / "in.csv", "--out", tmp_path / "o2")
    report = json.loads((tmp_path / "o2" / "quality.json").read_text("utf-8"))
    check = next(c for c in report["checks"] if c["check"].startswith("freshness"))
    assert abs(check["value"] - 2 / 9) < 1e-9 and check["target"] == 0.98 and not check["passed"]


def test_freshness_config_is_validated(tmp_path):
    _write(tmp_path / "in.csv", ["2025-01-01"])
    cfg = _config(tmp_path, "  freshness_days: 0")
    r = run_cli("profile", "--config", cfg, "--input", tmp_path / "in.csv", "--out", tmp_path / "o",
                expect=2)
    assert "quality.freshness_days" in r.output
