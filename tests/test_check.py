"""The data-entry duplicate check (resolution/check.py): finds a known duplicate's entity
with an explanation, leaves a new customer alone, answers over HTTP, and scores a pair
exactly as the batch job does."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from conftest import CONFIG, run_cli

from resolution.config import CANONICAL_FIELDS, load_config

HELD_OUT = 120
FORM_FIELDS = [f for f in CANONICAL_FIELDS if f not in ("record_id", "source_system")]


def _read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _form(row: dict) -> dict:
    """What a sales rep's form sends: no record ID yet, empty fields left out."""
    return {k: row[k] for k in FORM_FIELDS if row.get(k)}


@pytest.fixture(scope="module")
def check_env(tmp_path_factory, demo_files, trained_model):
    """A store of the demo records minus HELD_OUT of them, and the held-out records with
    the store entity each should find (None: a customer the store does not have)."""
    customers, truth = demo_files
    tmp = tmp_path_factory.mktemp("check")
    rows = _read_csv(customers)
    held, kept = rows[-HELD_OUT:], rows[:-HELD_OUT]
    _write_csv(tmp / "store_input.csv", kept)
    store = tmp / "store.duckdb"
    run_cli(
        "dedup",
        "--config",
        CONFIG,
        "--model",
        trained_model,
        "--input",
        tmp / "store_input.csv",
        "--out",
        tmp / "job",
        "--store",
        store,
    )
    true_entity = {r["record_id"]: r["entity_id"] for r in _read_csv(truth)}
    con = duckdb.connect(str(store), read_only=True)
    crosswalk = dict(con.execute("SELECT record_id, entity_id FROM crosswalk").fetchall())
    con.close()
    votes: dict[str, dict[str, int]] = {}
    for rid, eid in crosswalk.items():
        by = votes.setdefault(true_entity[rid], {})
        by[eid] = by.get(eid, 0) + 1
    expected = {t: max(v, key=v.get) for t, v in votes.items()}
    cases = [(r, expected.get(true_entity[r["record_id"]])) for r in held]

    from resolution.check import Checker

    checker = Checker.from_reference(store, trained_model, load_config(CONFIG))
    yield {"store": store, "model": trained_model, "checker": checker, "cases": cases, "tmp": tmp}
    checker.close()


def test_known_duplicate_found_in_top3_with_matching_fields(check_env):
    checker, cases = check_env["checker"], check_env["cases"]
    dups = [(r, e) for r, e in cases if e is not None]
    assert len(dups) >= 40
    found = 0
    for row, entity in dups:
        result = checker.check(_form(row), top_k=3, min_probability=0.0)
        top = [c.entity_id for c in result.candidates]
        assert len(top) == len(set(top)) <= 3
        if entity in top:
            found += 1
    assert found / len(dups) >= 0.9, f"recall@3 {found / len(dups):.3f}"

    # one clear case, explained: a duplicate sharing its mobile with the stored customer
    row, entity = next(
        (r, e)
        for r, e in dups
        if r["mobile"]
        and r["customer_name"]
        and checker.check(_form(r)).candidates
        and checker.check(_form(r)).candidates[0].entity_id == e
    )
    best = checker.check(_form(row)).candidates[0]
    assert best.entity_id == entity
    assert best.likely_duplicate and best.match_probability >= 0.9
    assert best.matched_fields, "a likely duplicate must say which fields matched"
    labels = {(f.comparison, f.level) for f in best.matched_fields}
    assert all(f.match_weight > 0 for f in best.matched_fields)
    assert labels & {
        ("mobile", "same number"),
        ("mobile", "a number in common"),
        ("customer_name", "exact"),
        ("customer_name", "same pinyin"),
    }
    assert best.entity["entity_id"] == entity and best.entity.get("customer_name")
    assert "lineage" not in best.entity


def test_new_customer_gets_no_high_scoring_candidate(check_env):
    checker = check_env["checker"]
    made_up = {
        "customer_name": "瑞雪冰淇淋批发(乌鲁木齐)有限公司",
        "mobile": "199 0991 3378",
        "email": "order@ruixue-bingqilin.cn",
        "address": "新疆乌鲁木齐市天山区解放北路9号",
    }
    result = checker.check(made_up)
    assert not result.likely_duplicate
    assert all(c.match_probability < 0.5 for c in result.candidates)
    assert result.standardized["mobile_key"] == "+8619909913378"

    # held-out customers the store has never seen are rarely flagged
    new = [r for r, e in check_env["cases"] if e is None]
    assert new, "the held-out records should include new customers"
    flagged = sum(checker.check(_form(r)).likely_duplicate for r in new)
    assert flagged / len(new) <= 0.15


def test_checks_answered_together_match_checks_answered_alone(check_env):
    """`Checker.check_many` (what the server runs for requests that arrive together)
    answers each record as `check` does; a bad record fails only its own request."""
    from resolution.check import CheckRequest
    from resolution.errors import InputError

    checker = check_env["checker"]
    forms = [_form(r) for r, _e in check_env["cases"][:40]]
    requests = [CheckRequest(f, top_k=5, min_probability=0.0) for f in forms]
    requests.insert(7, CheckRequest({"customer_type": "person"}))  # nothing to match on
    answers = checker.check_many(requests)
    assert isinstance(answers[7], InputError)
    del answers[7]
    for form, together in zip(forms, answers):
        assert not isinstance(together, Exception)
        alone = checker.check(form, top_k=5, min_probability=0.0)
        assert [(c.entity_id, c.record_id, c.match_weight, c.match_probability)
                for c in together.candidates] == \
            [(c.entity_id, c.record_id, c.match_weight, c.match_probability)
             for c in alone.candidates]
        assert together.candidates_scored == alone.candidates_scored
    assert sum(bool(a.candidates) for a in answers if not isinstance(a, Exception)) >= 20


def test_scores_agree_with_the_batch_pairs(check_env):
    """Every pair the batch job kept, scored by the check: the probe's own blocking finds
    the stored partner, and weight and probability are the batch job's."""
    checker = check_env["checker"]
    con = duckdb.connect(str(check_env["store"]), read_only=True)
    cols = ", ".join(CANONICAL_FIELDS)
    raw = {
        r[0]: dict(zip(CANONICAL_FIELDS, r))
        for r in con.execute(f"SELECT {cols} FROM records").fetchall()
    }
    pairs = con.execute(
        "SELECT record_id_l, record_id_r, match_weight, match_probability FROM pairs "
        "ORDER BY hash(record_id_l || record_id_r) LIMIT 150"
    ).fetchall()
    con.close()
    assert len(pairs) == 150
    for left, right, weight, prob in pairs:
        # right as the probe too: the check orients the pair as Splink does (by record_id)
        for probe, other in ((left, right), (right, left)):
            scores = checker.score_records(raw[probe])
            assert other in scores, f"blocking missed the batch pair {probe}-{other}"
            assert scores[other]["match_weight"] == pytest.approx(weight, abs=1e-6)
            assert scores[other]["match_probability"] == pytest.approx(prob, abs=1e-9)
        # and through the given-records path
        only = checker.score_records(raw[left], [right])
        assert only[right]["match_weight"] == pytest.approx(weight, abs=1e-6)


def test_standardize_record_agrees_with_standardize_table(check_env):
    from resolution.check import standardize_record
    from resolution.standardize import STD_COLUMNS

    con = duckdb.connect(str(check_env["store"]), read_only=True)
    names = list(CANONICAL_FIELDS) + list(STD_COLUMNS)
    rows = con.execute(f"SELECT {', '.join(names)} FROM records").fetchall()
    con.close()
    for row in rows:
        rec = dict(zip(names, row))
        mine = standardize_record({k: rec[k] for k in CANONICAL_FIELDS})
        for col in STD_COLUMNS:
            assert mine[col] == rec[col], (rec["record_id"], col, mine[col], rec[col])


def test_http_check_and_bad_input(check_env):
    from fastapi.testclient import TestClient

    from resolution.check import Watcher, create_app

    token = run_cli("tokens", "create", "--store", check_env["store"], "--name", "http-test",
                    "--role", "check_admin").output.strip().splitlines()[-1]
    checker = check_env["checker"]
    client = TestClient(create_app(checker, Watcher(checker)),
                        headers={"Authorization": f"Bearer {token}"})
    row, entity = next((r, e) for r, e in check_env["cases"] if e is not None)
    r = client.post("/check", json=_form(row), params={"top_k": 5, "min_probability": 0})
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"likely_duplicate", "candidates", "snapshot", "elapsed_ms"} <= set(body)
    assert 1 <= len(body["candidates"]) <= 5
    c = body["candidates"][0]
    assert {"entity_id", "match_probability", "matched_fields", "entity"} <= set(c)
    assert entity in [c["entity_id"] for c in body["candidates"]]

    bad = client.post("/check", json={"customer_nme": "华联超市", "mobile": "13800138000"})
    assert bad.status_code == 422
    assert "customer_nme" in bad.json()["error"] and "unknown field" in bad.json()["error"]
    empty = client.post("/check", json={"province": "上海市"})
    assert empty.status_code == 422
    assert "nothing to match on" in empty.json()["error"]
    number = client.post("/check", json={"mobile": 1.38e10})
    assert number.status_code == 422 and "mobile" in number.json()["error"]
    assert (
        client.post(
            "/check", content=b"not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    assert client.post("/check", json=_form(row), params={"top_k": 0}).status_code == 422

    health = client.get("/health").json()
    assert health["status"] == "ok" and health["records"] == 1500 - HELD_OUT
    assert client.post("/reload").json()["records"] == 1500 - HELD_OUT


def test_cli_check_record_input_and_errors(check_env):
    store, model, tmp = check_env["store"], check_env["model"], check_env["tmp"]
    row, entity = next((r, e) for r, e in check_env["cases"] if e is not None)
    base = ["check", "--store", store, "--model", model, "--config", CONFIG]

    result = run_cli(
        *base, "--record", json.dumps(_form(row), ensure_ascii=False), "--json", "--top-k", "5"
    )
    doc = json.loads(result.output)
    assert entity in [c["entity_id"] for c in doc["candidates"]]
    text = run_cli(*base, "--record", json.dumps(_form(row), ensure_ascii=False)).output
    assert "p=" in text and "scored in" in text

    few = [dict(r) for r, _ in check_env["cases"][:3]]
    for r in few:
        r.pop("record_id")
    _write_csv(tmp / "few.csv", few)
    docs = json.loads(run_cli(*base, "--input", tmp / "few.csv", "--json").output)
    assert len(docs) == 3 and all("candidates" in d for d in docs)

    bad = run_cli(*base, "--record", '{"mobile": "138", "colour": "red"}', expect=2)
    assert "error:" in bad.output and "colour" in bad.output
    assert "nothing to match on" in run_cli(*base, "--record", "{}", expect=2).output
    assert "--record" in run_cli(*base, expect=2).output
    missing = run_cli(
        "check",
        "--store",
        tmp / "nope.duckdb",
        "--model",
        model,
        "--config",
        CONFIG,
        "--record",
        '{"mobile": "13800138000"}',
        expect=2,
    )
    assert "store not found" in missing.output


def test_a_calibrated_model_calibrates_the_check(check_env):
    """With a calibrator, the check reports calibrated probabilities, as the batch job's
    pairs do (here one that halves every probability)."""
    from resolution.check import Checker

    plain = check_env["checker"]
    halving = {"method": "isotonic", "x": [0.0, 1.0], "y": [0.0, 0.5]}
    calibrated = Checker(check_env["store"], plain._settings, plain.config, calibration=halving,
                         tf_tables=plain.tf_tables)
    try:
        row, _ = next((r, e) for r, e in check_env["cases"] if e is not None)
        raw, cal = plain.score_records(_form(row)), calibrated.score_records(_form(row))
        assert raw.keys() == cal.keys() and raw
        for rid, s in raw.items():
            assert cal[rid]["match_probability"] == pytest.approx(s["match_probability"] / 2)
            assert cal[rid]["match_weight"] == pytest.approx(s["match_weight"])
    finally:
        calibrated.close()


def test_the_store_policy_applies(check_env, monkeypatch):
    """The check reads the store through the store's own door: with a key set for a
    store written in clear, it refuses like every other store access."""
    from resolution.check import Checker
    from resolution.errors import ResolutionError

    monkeypatch.setenv("ER_ENCRYPTION_KEY", "k" * 32)
    plain = check_env["checker"]
    with pytest.raises(ResolutionError, match="not encrypted but ER_ENCRYPTION_KEY is set"):
        Checker(check_env["store"], plain._settings, plain.config)
