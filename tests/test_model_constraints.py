"""A model a domain expert would sign (issue 15), checked through training on small data:
level weights in the order of their meaning, domain priors EM cannot overturn, pairs the
names tell apart getting no evidence from shared contact details, λ rescaled to the
input's size."""

from __future__ import annotations

import csv
import math

import pandas as pd
import pytest

import resolution as er
import training


def _weights(settings):
    """{comparison: [(label, weight, fixed), ...]} for the non-null levels with m and u."""
    out = {}
    for comp in settings["comparisons"]:
        rows = []
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            if m and u:
                rows.append((lv["label_for_charts"], math.log2(m / u),
                             bool(lv.get("fix_m_probability"))))
        out[comp["output_column_name"]] = rows
    return out


@pytest.fixture(scope="module")
def unsupervised(demo_files):
    customers, _ = demo_files
    with training.train(customers, charts=False) as model:
        yield model


def test_levels_weigh_in_the_order_of_their_meaning(unsupervised):
    from resolution.model.settings import UNRANKED_LEVELS

    for comp, rows in _weights(unsupervised.settings).items():
        free = [(label, w) for label, w, fixed in rows
                if not fixed and label not in UNRANKED_LEVELS]
        top = free[0][1]
        assert all(w <= top + 1e-9 for label, w, _ in rows if label in UNRANKED_LEVELS)
        for (a, wa), (b, wb) in zip(free, free[1:]):
            assert wb <= wa + 1e-9, f"{comp}: '{b}' ({wb:+.2f}) outweighs '{a}' ({wa:+.2f})"


def test_domain_priors_hold_after_em_and_yield_to_labels(unsupervised, demo_files):
    priors = {(c, label): w for c, rows in _weights(unsupervised.settings).items()
              for label, w, fixed in rows if fixed}
    for comp in ("uscc", "id_card"):
        level = next(lv for c in unsupervised.settings["comparisons"]
                     if c["output_column_name"] == comp for lv in c["comparison_levels"]
                     if lv["label_for_charts"] == "different valid identifiers")
        assert level["m_probability"] == pytest.approx(0.01) and level["fix_m_probability"]
        assert priors[(comp, "different valid identifiers")] < -5
    assert (("branch", "different branches") in priors)
    # every adjustment is said in the run's warnings
    assert all(isinstance(w, str) for w in unsupervised.warnings)
    customers, truth = demo_files
    with training.train(customers, truth=truth, charts=False) as supervised:
        released = [lv for c in supervised.settings["comparisons"] for lv in c["comparison_levels"]
                    if lv.get("fix_m_probability")]
        assert not released, "labels estimate every m, priors included"


def test_a_level_em_never_trained_weighs_as_the_next_trained_level(unsupervised):
    """A level no EM round trained would be scored with Splink's default m for its
    position, a weight nobody estimated: it weighs as the next less similar level."""
    said = [w for w in unsupervised.warnings if "was never trained (no m); it weighs as" in w]
    assert said, unsupervised.warnings
    for comp in unsupervised.settings["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        assert all(lv.get("m_probability") is not None for lv in levels), comp["output_column_name"]
        for lv, nxt in zip(levels, levels[1:]):
            if any(f"{comp['output_column_name']}: level {lv['label_for_charts']} was never"
                   in w for w in said):
                w = math.log2(lv["m_probability"] / lv["u_probability"])
                assert w == pytest.approx(math.log2(nxt["m_probability"] / nxt["u_probability"]))


def _row(rid, name, kind, **kw):
    base = {"record_id": rid, "source_system": "CRM", "customer_name": name,
            "customer_type": kind, "uscc": "", "contact_name": "", "mobile": "", "phone": "",
            "email": "", "province": "浙江省", "city": "杭州市", "district": "西湖区",
            "address": "", "id_card": "", "updated_at": "2026-01-01"}
    base.update(kw)
    return base


def test_pairs_the_names_tell_apart_get_no_evidence_from_shared_contacts(unsupervised,
                                                                        demo_files, tmp_path):
    customers, _ = demo_files
    frame = pd.read_csv(customers, dtype=str, keep_default_na=False)
    addr = "杭州市西湖区文三路478号华星时代广场A座1203室"
    extra = pd.DataFrame([
        # a household: two persons, different names, one landline and address
        _row("H-1", "周建国", "个人", phone="0571-88123456", address=addr),
        _row("H-2", "林秀英", "个人", phone="0571-88123456", address=addr),
        # a 个体 shop and its owner: one mobile and address
        _row("O-1", "周建国五金店", "个体工商户", mobile="13957112345", address=addr),
        _row("O-2", "周建国", "个人", mobile="13957112345", address=addr),
        # one salesperson on two different stores
        _row("S-1", "杭州联华超市文三店", "企业", contact_name="陈立", mobile="13800571234"),
        _row("S-2", "杭州永辉生鲜超市", "企业", contact_name="陈立", mobile="13800571234"),
        # ... and on two stores whose names share only industry words (副食品)
        _row("S-3", "杭州益利副食品有限公司", "企业", contact_name="孟桂军", mobile="15671990970"),
        _row("S-4", "华鑫副食品（杭州）有限公司", "企业", contact_name="孟桂军", mobile="15671990970"),
        # an honest duplicate: the same person twice
        _row("D-1", "沈佳怡", "个人", mobile="13705718888", address=addr),
        _row("D-2", "沈佳怡", "个人", mobile="137 0571 8888", address="文三路478号华星时代广场A座1203室"),
        # one person by surname and title in the shop, in pinyin in the overseas system:
        # the names do not tell them apart (罗 is Luo), so the shared mobile counts
        _row("T-1", "罗先生", "个人", mobile="13902288346"),
        _row("T-2", "Botao Luo", "个人", mobile="+86 139 0228 8346"),
        # ... while a different surname does (刘 is Liu)
        _row("T-3", "刘先生", "个人", mobile="13902288346"),
    ])
    data = tmp_path / "with_hard_negatives.csv"
    pd.concat([frame, extra]).to_csv(data, index=False, quoting=csv.QUOTE_MINIMAL)
    er.dedup(data, None, unsupervised, out=tmp_path / "out")
    import duckdb

    con = duckdb.connect(str(tmp_path / "out" / "job.duckdb"), read_only=True)
    try:
        entity = dict(con.execute(
            "SELECT record_id, entity_id FROM crosswalk WHERE record_id IN "
            "('H-1','H-2','O-1','O-2','S-1','S-2','S-3','S-4','D-1','D-2','T-1','T-2','T-3')"
        ).fetchall())
    finally:
        con.close()
    assert entity["D-1"] == entity["D-2"], "the honest duplicate is one customer"
    assert entity["T-1"] == entity["T-2"], "罗先生 and Botao Luo on one mobile are one customer"
    for a, b in (("T-1", "T-3"), ("H-1", "H-2"), ("O-1", "O-2"), ("S-1", "S-2"), ("S-3", "S-4")):
        assert entity[a] != entity[b], f"{a} and {b} are different customers"


def test_one_place_is_counted_once(unsupervised, demo_files, tmp_path):
    """Two namesakes (the demo's most common name) in one district, on different roads,
    nothing else in common: the district implies the city, so the pair must not get the
    city's evidence on top of the district's (Fellegi-Sunter multiplies comparisons as if
    they were independent)."""
    levels = {c["output_column_name"]: [lv["label_for_charts"] for lv in c["comparison_levels"]]
              for c in unsupervised.settings["comparisons"]}
    assert "same city" in levels["address"]
    readers = [c["output_column_name"] for c in unsupervised.settings["comparisons"]
               if any("city_std" in lv["sql_condition"] for lv in c["comparison_levels"])]
    assert readers == ["address"], f"the city is read by {readers}"

    customers, _ = demo_files
    frame = pd.read_csv(customers, dtype=str, keep_default_na=False)
    extra = pd.DataFrame([
        _row("N-1", "杨伟", "个人", address="杭州市西湖区文三路100号"),
        _row("N-2", "杨伟", "个人", address="杭州市西湖区天目山路200号"),
    ])
    data = tmp_path / "namesakes.csv"
    pd.concat([frame, extra]).to_csv(data, index=False, quoting=csv.QUOTE_MINIMAL)
    er.dedup(data, None, unsupervised, out=tmp_path / "out")
    import duckdb

    con = duckdb.connect(str(tmp_path / "out" / "job.duckdb"), read_only=True)
    try:
        entity = dict(con.execute(
            "SELECT record_id, entity_id FROM crosswalk WHERE record_id IN ('N-1', 'N-2')"
        ).fetchall())
    finally:
        con.close()
    assert entity["N-1"] != entity["N-2"], "a name and a district are not one customer"


def test_prior_follows_the_input_size(unsupervised, demo_files, tmp_path):
    customers, _ = demo_files
    frame = pd.read_csv(customers, dtype=str, keep_default_na=False)
    same = er.dedup(frame, None, unsupervised, out=tmp_path / "same")
    assert not same.prior["rescaled"]
    assert same.prior["trained_on_records"] == len(frame)
    half = er.dedup(frame.iloc[:750], None, unsupervised, out=tmp_path / "half")
    lam = same.prior["lambda_trained"]
    assert half.prior["rescaled"]
    assert half.prior["lambda_used"] == pytest.approx(lam * (len(frame) - 1) / (750 - 1))


def test_er_match_checks_a_chained_household_as_the_batch_does(unsupervised, demo_files,
                                                               tmp_path):
    """Two people of one household are apart in the store; a new record written by
    surname and title (赵先生) with the mobile of one and, typed into the phone field, the
    mobile of the other, links to both. Compared directly the two differ: `er match`
    re-scores the chained component and keeps them apart, as `er dedup` on all does."""
    customers, _ = demo_files
    frame = pd.read_csv(customers, dtype=str, keep_default_na=False)
    addr = "天津市西青区新港街4号香榭小区12号楼2301室"
    household = pd.DataFrame([
        _row("Z-1", "赵晓平", "个人", mobile="15784142929", address=addr, city="天津市",
             province="天津市", district="西青区"),
        _row("Z-2", "赵思龙", "个人", mobile="15719860448", address=addr, city="天津市",
             province="天津市", district="西青区"),
    ])
    new = pd.DataFrame([
        _row("Z-3", "赵先生", "个人", mobile="15784142929", phone="15719860448",
             address=addr, city="天津市", province="天津市", district="西青区"),
    ])
    first = tmp_path / "first.csv"
    pd.concat([frame, household]).to_csv(first, index=False)
    store = tmp_path / "store.duckdb"
    er.dedup(first, None, unsupervised, out=tmp_path / "out", store=store)
    er.match(new, None, unsupervised, store=store)
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        entity = dict(con.execute("SELECT record_id, entity_id FROM crosswalk WHERE record_id "
                                  "IN ('Z-1', 'Z-2', 'Z-3')").fetchall())
    finally:
        con.close()
    assert len(entity) == 3
    assert entity["Z-1"] != entity["Z-2"], "two people of one household became one entity"

    # the batch on all records keeps them apart too
    both = tmp_path / "all.csv"
    pd.concat([frame, household, new]).to_csv(both, index=False)
    er.dedup(both, None, unsupervised, out=tmp_path / "batch")
    con = duckdb.connect(str(tmp_path / "batch" / "job.duckdb"), read_only=True)
    try:
        batch = dict(con.execute("SELECT record_id, entity_id FROM crosswalk WHERE record_id "
                                 "IN ('Z-1', 'Z-2', 'Z-3')").fetchall())
    finally:
        con.close()
    assert batch["Z-1"] != batch["Z-2"]
