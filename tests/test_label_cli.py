"""Active learning from the CLI (issue 17): `er label next` asks for the pairs near the
match threshold, one per comparison pattern first; a steward fills in is_match; `er label
add` records the answers as one audited decision whose 1/0 pairs are constraints that
`er review export-labels` exports; bad files are refused in one line, nothing recorded.

Each test works on its own copy of the store from a real `er dedup` (test_review).
"""

from __future__ import annotations

import csv
import math
import stat

import pytest
from conftest import error_line, run_cli
from test_review import q, review_store_template, store  # noqa: F401

# pairs further than this from the match threshold (in log2 odds) are never asked
# (resolution/labels.py SURE_BITS)
SURE_BITS = 4.0


def _read(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _write(path, header, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _bits(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


def _counts(store):  # noqa: F811
    return q(store, "SELECT (SELECT count(*) FROM constraints), (SELECT count(*) FROM decisions)")[0]


def test_label_next_then_add_records_audited_labels_that_export_labels_shows(store, tmp_path):  # noqa: F811
    ask = tmp_path / "ask.csv"
    r = run_cli("label", "next", "--store", store, "--n", "12", "--out", ask)
    assert "12 pairs" in r.output
    rows = _read(ask)
    assert len(rows) == 12
    assert stat.S_IMODE(ask.stat().st_mode) == 0o600  # personal data, like the store
    header = list(rows[0])
    assert header[:3] == ["record_id_l", "record_id_r", "is_match"]
    # both records' fields side by side, unmasked
    assert header.index("customer_name_r") == header.index("customer_name_l") + 1
    raw = dict(q(store, "SELECT record_id, customer_name FROM records"))
    assert all(row["customer_name_l"] == (raw[row["record_id_l"]] or "") for row in rows)
    assert all(row["is_match"] == "" for row in rows)

    # uncertain pairs only: near the job's match threshold, none the model is sure of
    t = 0.9
    stored = {(a, b): p for a, b, p in q(store, "SELECT record_id_l, record_id_r, "
                                                "match_probability FROM pairs")}
    asked = [(row["record_id_l"], row["record_id_r"]) for row in rows]
    assert len(set(asked)) == 12
    assert all(abs(_bits(stored[p]) - _bits(t)) <= SURE_BITS for p in asked)
    sure = [p for p, v in stored.items() if abs(_bits(v) - _bits(t)) > SURE_BITS]
    assert sure and not set(sure) & set(asked)
    # diverse: one pair per comparison pattern while there are patterns left
    gammas = [c for (c,) in q(store, "SELECT column_name FROM (DESCRIBE pairs)")
              if c.startswith("gamma_")]
    patterns = {(a, b): pat for a, b, pat in q(store, f"""
        SELECT record_id_l, record_id_r, concat_ws(',', {', '.join(gammas)}) FROM pairs""")}
    near_patterns = {patterns[p] for p, v in stored.items() if abs(_bits(v) - _bits(t)) <= SURE_BITS}
    assert len(near_patterns) >= 12
    assert len({patterns[p] for p in asked}) == 12

    # the steward answers: same, different, unsure in turn
    answers = {p: ["1", "0", ""][i % 3] for i, p in enumerate(asked)}
    for row in rows:
        row["is_match"] = answers[(row["record_id_l"], row["record_id_r"])]
    _write(ask, header, [list(row.values()) for row in rows])
    r = run_cli("label", "add", ask, "--store", store, "--user", "wang")
    assert "4 same, 4 different, 4 unsure" in r.output
    who, action, comment = q(store, "SELECT who, action, comment FROM decisions")[0]
    assert (who, action) == ("wang", "label") and "ask.csv" in comment

    out = tmp_path / "labels.csv"
    run_cli("review", "export-labels", "--store", store, "--out", out)
    exported = {(row["record_id_l"], row["record_id_r"]): row["is_match"] for row in _read(out)}
    assert exported == {tuple(sorted(p)): v for p, v in answers.items() if v}

    # asked again: none of the answered pairs (the unsure ones included)
    again = tmp_path / "again.csv"
    run_cli("label", "next", "--store", store, "--n", "12", "--out", again)
    assert not {(row["record_id_l"], row["record_id_r"]) for row in _read(again)} & set(asked)
    run_cli("store", "verify", "--store", store)


BAD = {
    "unknown record": (None, lambda r: [r[0], "NO-SUCH-RECORD", "1"], "row 4", "NO-SUCH-RECORD"),
    "missing column": (["record_id_l", "record_id_r", "match"], None, "row 1", "is_match"),
    "another value": (None, lambda r: [r[0], r[1], "yes"], "row 4", "yes"),
    "a number not 1/0": (None, lambda r: [r[0], r[1], "2"], "row 4", "is_match"),
    "the same record twice": (None, lambda r: [r[0], r[0], "0"], "row 4", r"same record"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_labels_file_is_refused_in_one_line_and_nothing_is_recorded(
    store, tmp_path, case  # noqa: F811
):
    ask = tmp_path / "ask.csv"
    run_cli("label", "next", "--store", store, "--n", "4", "--out", ask)
    pairs = [[row["record_id_l"], row["record_id_r"], "1"] for row in _read(ask)]
    header, bad_row, where, names = BAD[case]
    rows = pairs[:2] + [bad_row(pairs[2])] + pairs[3:] if bad_row else pairs
    bad = tmp_path / "bad.csv"
    _write(bad, header or ["record_id_l", "record_id_r", "is_match"], rows)
    before = _counts(store)
    r = run_cli("label", "add", bad, "--store", store, expect=2)
    line = error_line(r)
    assert where in line and names in line, line
    assert "Traceback" not in r.output
    assert _counts(store) == before  # the good rows before it were not recorded either


def test_after_a_label_the_patterns_nobody_labelled_are_asked_first(store, tmp_path):  # noqa: F811
    """Asked one pair at a time (as the review app's label page asks), each answer moves
    its comparison pattern behind those not labelled yet, so the next pairs keep coming
    from new patterns instead of drilling the most uncertain one."""
    gammas = [c for (c,) in q(store, "SELECT column_name FROM (DESCRIBE pairs)")
              if c.startswith("gamma_")]
    pattern = dict(((a, b), pat) for a, b, pat in q(store, f"""
        SELECT record_id_l, record_id_r, concat_ws(',', {', '.join(gammas)}) FROM pairs"""))
    seen = []
    for i in range(6):
        ask = tmp_path / f"ask{i}.csv"
        run_cli("label", "next", "--store", store, "--n", "1", "--out", ask)
        row = _read(ask)[0]
        pair = (row["record_id_l"], row["record_id_r"])
        seen.append(pattern[pair])
        _write(ask, ["record_id_l", "record_id_r", "is_match"], [[*pair, str(i % 2)]])
        run_cli("label", "add", ask, "--store", store, "--user", "wang")
    assert len(set(seen)) == len(seen), seen
