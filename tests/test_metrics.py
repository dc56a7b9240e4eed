"""Evaluation metrics against hand-computed cases."""

import duckdb
import pytest

from training.evaluation import metrics_from_tables


def _metrics(pred: dict[str, str], truth: dict[str, str]):
    con = duckdb.connect()
    con.execute("CREATE TABLE p (record_id VARCHAR, entity_id VARCHAR)")
    con.execute("CREATE TABLE t (record_id VARCHAR, entity_id VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?)", list(pred.items()))
    con.executemany("INSERT INTO t VALUES (?, ?)", list(truth.items()))
    return metrics_from_tables(con, "p", "t")


TRUTH = {"1": "A", "2": "A", "3": "A", "4": "B", "5": "B"}


def test_mixed_clusters_by_hand():
    # predicted {1,2} {3,4,5}: TP pairs (1,2),(4,5) = 2; predicted pairs 1 + 3; true pairs 3 + 1
    m = _metrics({"1": "X", "2": "X", "3": "Y", "4": "Y", "5": "Y"}, TRUTH)
    assert (m.true_positive_pairs, m.predicted_pairs, m.true_pairs) == (2, 4, 4)
    assert m.pairwise_precision == pytest.approx(0.5)
    assert m.pairwise_recall == pytest.approx(0.5)
    assert m.pairwise_f1 == pytest.approx(0.5)
    # B-cubed precision = (4/2 + 1/3 + 4/3) / 5 = 11/15; recall = (4/3 + 1/3 + 4/2) / 5 = 11/15
    assert m.bcubed_precision == pytest.approx(11 / 15)
    assert m.bcubed_recall == pytest.approx(11 / 15)
    assert (m.false_positive_pairs, m.false_negative_pairs) == (2, 2)
    assert (m.predicted_clusters, m.true_clusters) == (2, 2)


def test_all_singletons():
    m = _metrics({k: k for k in TRUTH}, TRUTH)
    assert m.pairwise_precision == 1.0  # no predicted pairs: nothing wrong was claimed
    assert m.pairwise_recall == 0.0
    assert m.bcubed_precision == pytest.approx(1.0)
    assert m.bcubed_recall == pytest.approx((3 * (1 / 3) + 2 * (1 / 2)) / 5)
    assert m.false_negative_pairs == 4


def test_perfect_and_everything_merged():
    assert _metrics(dict(TRUTH), TRUTH).pairwise_f1 == pytest.approx(1.0)
    m = _metrics({k: "Z" for k in TRUTH}, TRUTH)
    assert m.pairwise_precision == pytest.approx(4 / 10)
    assert m.pairwise_recall == 1.0
    assert m.bcubed_precision == pytest.approx((3 * 3 / 5 + 2 * 2 / 5) / 5)


def test_records_missing_from_one_side_are_counted_not_scored():
    pred = {"1": "X", "2": "X", "9": "Q"}
    m = _metrics(pred, TRUTH)
    assert m.records == 2
    assert m.unmatched_records == 4  # 9 only predicted; 3, 4, 5 only in truth
