"""Blocking caps (`model.blocking_caps`): key values of a capped rule shared by more records
than its `max_block_size` generate no candidate pairs, and the job reports what it skipped."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import yaml
from conftest import CONFIG, run_cli

RULE = ["name_pinyin", "province_std"]


def _config(tmp_path, name, caps):
    cfg = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    cfg["quality"]["track_in_mlflow"] = False
    cfg["model"]["blocking_caps"] = caps
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def test_oversized_key_groups_are_skipped_and_reported(tmp_path, demo_files, trained_model):
    customers, _ = demo_files
    demo = pd.read_csv(customers, dtype=str).head(300)
    # twelve strangers named 王伟 in one province (a common name: one key group of 12),
    # two of them one customer sharing a mobile
    wang = pd.DataFrame({
        "record_id": [f"W{i:02d}" for i in range(12)],
        "source_system": "CRM",
        "customer_name": "王伟",
        "customer_type": "个人",
        "mobile": [f"139{i:08d}" for i in range(11)] + ["13900000000"],
        "province": "广东省",
        "city": ["广州市", "深圳市", "珠海市", "汕头市", "佛山市", "韶关市"] * 2,
        "address": [f"人民路{i + 1}号" for i in range(12)],
    })
    data = tmp_path / "customers.csv"
    pd.concat([demo, wang], ignore_index=True).to_csv(data, index=False)

    got = {}
    for name, caps in (("capped", [{"rule": RULE, "max_block_size": 5}]), ("uncapped", [])):
        out = tmp_path / name
        res = run_cli("dedup", "--config", _config(tmp_path, name, caps), "--model",
                      trained_model, "--input", data, "--out", out)
        summary = json.loads((out / "summary.json").read_text("utf-8"))
        con = duckdb.connect(str(out / "job.duckdb"), read_only=True)
        pairs = set(con.execute("SELECT record_id_l, record_id_r FROM pairs").fetchall())
        con.close()
        got[name] = (summary, pairs, res.output)

    summary, pairs, output = got["capped"]
    [skipped] = summary["blocking_skipped"]
    assert skipped["rule"] == "name_pinyin & province_std"
    assert skipped["max_block_size"] == 5
    assert skipped["keys"] >= 1 and skipped["records"] >= 12 and skipped["pairs"] >= 66
    assert "blocking keys skipped" in output
    # the capped rule's pair count lost exactly the skipped groups' pairs
    assert got["uncapped"][0]["candidate_pairs"] - summary["candidate_pairs"] == skipped["pairs"]
    assert got["uncapped"][0]["blocking_skipped"] == []
    # the duplicate sharing a mobile is still scored (another rule blocks on the mobile)
    assert ("W00", "W11") in pairs
    # strangers who share only the common name are no longer candidates
    assert not {p for p in pairs if p[0].startswith("W") and p[1].startswith("W")} - {("W00", "W11")}


def test_cap_must_name_a_blocking_rule(tmp_path, demo_files):
    customers, _ = demo_files
    config = _config(tmp_path, "bad", [{"rule": ["name_pinyin"], "max_block_size": 5}])
    res = run_cli("dedup", "--config", config, "--model", "x", "--input", customers,
                  "--out", tmp_path / "o", expect=2)
    assert res.output.startswith("error:") and "not one of model.blocking_rules" in res.output
    assert len(res.output.strip().splitlines()) == 1
