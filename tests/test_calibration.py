"""Calibration on synthetic scores whose true match probability is known."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from training import calibration


def _synthetic(n: int = 20_000, seed: int = 0):
    """True probability q ~ U(0,1), outcome y ~ Bernoulli(q), and an over-confident raw
    score whose log-odds are 0.5 * logit(q) + 1 (so logit(q) = 2 * logit(raw) - 2)."""
    rng = np.random.default_rng(seed)
    q = rng.uniform(0.001, 0.999, n)
    y = rng.binomial(1, q)
    raw = 1 / (1 + np.exp(-(0.5 * np.log(q / (1 - q)) + 1)))
    return raw, y, q


def test_reliability_of_a_constant_score_is_its_distance_from_the_match_rate():
    p = np.full(1000, 0.8)
    y = np.array([1, 0] * 500)
    rel = calibration.reliability(p, y)
    assert rel.ece == pytest.approx(0.3)
    assert rel.max_gap == pytest.approx(0.3)
    assert rel.brier == pytest.approx(0.5 * 0.2**2 + 0.5 * 0.8**2)
    assert [b["count"] for b in rel.bins] == [1000]


def test_platt_recovers_the_known_logistic_map():
    raw, y, _ = _synthetic()
    cal = calibration.fit(raw, y, "platt")
    # calibrated logit = a * log2-odds + b, so a = 2 * ln 2 and b = -2
    assert cal.a == pytest.approx(2 * np.log(2), rel=0.08)
    assert cal.b == pytest.approx(-2.0, abs=0.15)


def test_isotonic_fixes_miscalibration_on_held_out_pairs():
    raw, y, q = _synthetic()
    train, test = slice(0, 14_000), slice(14_000, None)
    cal = calibration.fit(raw[train], y[train], "isotonic")
    before = calibration.reliability(raw[test], y[test]).ece
    after = calibration.reliability(cal(raw[test]), y[test]).ece
    assert before > 0.15
    assert after < 0.03
    # close to the true probability, and monotone: ranking (and clustering) is preserved
    assert np.mean(np.abs(cal(raw[test]) - q[test])) < 0.05
    order = np.argsort(raw[test])
    assert np.all(np.diff(cal(raw[test])[order]) >= -1e-12)


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_sql_apply_matches_numeric_apply_and_survives_a_round_trip(tmp_path, method):
    raw, y, _ = _synthetic(5000, seed=3)
    cal = calibration.fit(raw, y, method)
    path = cal.save(tmp_path)
    assert path.name == calibration.CALIBRATION_FILE
    loaded = calibration.load_for_model(tmp_path)  # a model folder with calibration.json
    assert loaded == cal
    con = duckdb.connect()
    con.execute("CREATE TABLE pairs AS SELECT unnest(?) AS match_probability", [raw.tolist()])
    assert calibration.apply_sql(con, tmp_path)
    got = np.array([r[0] for r in con.execute("SELECT match_probability FROM pairs").fetchall()])
    kept = np.array(
        [r[0] for r in con.execute("SELECT raw_match_probability FROM pairs").fetchall()]
    )
    np.testing.assert_allclose(got, calibration.apply(loaded, raw), atol=1e-9)
    np.testing.assert_allclose(kept, raw)


def test_no_calibrator_means_no_change(tmp_path):
    p = np.array([0.1, 0.5, 0.99])
    np.testing.assert_array_equal(calibration.apply(None, p), p)
    np.testing.assert_array_equal(calibration.apply(tmp_path, p), p)  # folder without one
    con = duckdb.connect()
    con.execute("CREATE TABLE pairs AS SELECT 0.5 AS match_probability")
    assert calibration.apply_sql(con, None) is False


def test_fit_refuses_one_class_labels():
    with pytest.raises(ValueError, match="matches and non-matches"):
        calibration.fit([0.2, 0.9], [1, 1])
