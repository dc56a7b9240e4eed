"""The second data set (benchmarks/second_data.py) and the accuracy benchmark that reports on it,
driven through their command lines."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from stdnum.cn import ric, uscc

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = [
    "record_id", "source_system", "customer_name", "customer_type", "uscc", "contact_name",
    "mobile", "phone", "email", "province", "city", "district", "address", "id_card",
    "updated_at",
]


def _generate(out: Path, records: int, seed: int) -> tuple[list[dict], list[dict]]:
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "second_data.py"), "--records", str(records),
         "--seed", str(seed), "--out", str(out)],
        check=True, cwd=ROOT, capture_output=True,
    )
    with (out / "customers.csv").open(encoding="utf-8") as f:
        customers = list(csv.DictReader(f))
    with (out / "truth.csv").open(encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    return customers, truth


def _digits(text: str) -> str:
    # full-width digits count too: "１３８" is 138
    return "".join(str(int(c)) for c in text if c.isdigit())


def test_same_seed_same_files_and_truth_covers_every_record(tmp_path):
    a, ta = _generate(tmp_path / "a", 3000, 5)
    b, tb = _generate(tmp_path / "b", 3000, 5)
    c, _ = _generate(tmp_path / "c", 3000, 6)
    assert (a, ta) == (b, tb)
    assert a != c
    assert list(a[0]) == COLUMNS and len(a) == 3000
    ids = [r["record_id"] for r in a]
    assert len(set(ids)) == len(ids)
    assert sorted(ids) == sorted(t["record_id"] for t in ta)
    assert {r["source_system"] for r in a} == {"CRM", "ERP", "SHOP", "HKTW", "OVERSEAS"}
    sizes = defaultdict(int)
    for t in ta:
        sizes[t["entity_id"]] += 1
    assert max(sizes.values()) >= 5  # some 5–8-record entities
    assert {t["cause"] for t in ta} == {"", "household", "namesake", "salesperson", "branch", "owner"}


def test_hard_negative_groups_share_what_their_kind_shares(tmp_path):
    customers, truth = _generate(tmp_path, 4000, 11)
    by_id = {r["record_id"]: r for r in customers}
    groups: dict[tuple[str, str], dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for t in truth:
        if t["group_id"]:
            groups[(t["cause"], t["group_id"])][t["entity_id"]].append(by_id[t["record_id"]])

    def shared(members: dict[str, list[dict]], key) -> bool:
        """Two different entities of the group have a record each with one non-empty key."""
        seen: dict[str, str] = {}
        for entity, recs in members.items():
            for k in {k for r in recs for k in key(r)} - {""}:
                if seen.setdefault(k, entity) != entity:
                    return True
        return False

    def room(r: dict) -> str:
        m = re.search(r"(\d+)室", r["address"]) or re.search(r"Room (\d+)", r["address"])
        return "room " + m.group(1) if m else ""

    checks = {  # each record's keys
        "household": lambda r: [_digits(r["phone"])[-8:], room(r)],
        "namesake": lambda r: [r["customer_name"]] if re.fullmatch(r"[\u4e00-\u9fff]{2,3}", r["customer_name"]) else [],
        "salesperson": lambda r: [r["contact_name"] + _digits(r["mobile"])[-11:]] if r["contact_name"] and r["mobile"] else [],
        "branch": lambda r: [_digits(r["phone"])[-8:], r["email"].strip().lower()],
        "owner": lambda r: [_digits(r["mobile"])[-11:]],
    }
    for cause, key in checks.items():
        mine = [m for (c, _g), m in groups.items() if c == cause and len(m) > 1]
        assert len(mine) >= 5, cause
        share = sum(shared(m, key) for m in mine) / len(mine)
        assert share >= 0.5, (cause, share)


def test_identifiers_carry_check_characters_and_sources_their_scripts(tmp_path):
    customers, _ = _generate(tmp_path, 3000, 3)
    codes = [r["uscc"] for r in customers if r["uscc"]]
    ids = [r["id_card"] for r in customers if r["id_card"]]
    valid_codes = sum(uscc.is_valid(c.upper()) for c in codes) / len(codes)
    valid_ids = sum(ric.is_valid(c.upper()) for c in ids) / len(ids)
    assert 0.8 < valid_codes < 1.0 and 0.8 < valid_ids < 1.0  # mostly valid, some broken
    hktw = " ".join(r["address"] + r["customer_name"] for r in customers if r["source_system"] == "HKTW")
    assert "號" in hktw and "区" not in hktw
    overseas = [r["customer_name"] for r in customers if r["source_system"] == "OVERSEAS"]
    assert all(n.isascii() for n in overseas)


def test_accuracy_benchmark_reports_causes_and_reliability_on_the_second_set():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "accuracy.py"), "--data", "second",
         "--records", "1200", "--seed", "3"],
        check=True, cwd=ROOT, capture_output=True, text=True,
    ).stdout
    assert "second data set: 1,200 records" in out and "demo data" not in out
    ours = re.search(r"^standardized \(ours\)(.*)$", out, re.MULTILINE).group(1).split()
    plain = re.search(r"^plain Splink, raw columns(.*)$", out, re.MULTILINE).group(1).split()
    total = re.search(r"^total(.*)$", out, re.MULTILINE).group(1).split()
    # false pairs by cause add up to the FP pairs of each model's metrics row
    assert total[0] == ours[6] and total[3] == plain[6]
    for cause in ("household", "namesake", "salesperson", "branch", "owner", "other"):
        assert re.search(rf"^{cause}\s+[\d,]+", out, re.MULTILINE), cause
    assert "reliability of membership_confidence" in out
    rows = re.findall(r"^\[0\.99, 1\]\s+([\d,]+)", out, re.MULTILINE)
    assert rows and int(rows[0].replace(",", "")) > 0
