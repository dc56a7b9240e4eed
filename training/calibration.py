"""Calibrate pair match probabilities on labels, measure how reliable they are, apply them.

A Fellegi-Sunter model's match probability assumes the comparisons are independent given
match status; on real data they are not (a shared mobile and a shared address usually
come together), so the raw probability is often over-confident. A calibrator maps the raw
probability to the share of labelled pairs at that score that really match:

- `isotonic`: a monotone step function (scikit-learn `IsotonicRegression`); needs a few
  hundred labelled pairs of each class, makes no assumption about the shape.
- `platt`: a logistic regression on the match weight (log2 odds); two parameters, good
  with few labels.

A calibrator is stored as a small JSON file (`calibration.json`) next to the model's
settings; `apply(model, p)` (numbers) and `apply_sql(con, model)` (the `pairs` table)
use it, and do nothing when the model has none. It is monotone non-decreasing, so the
ranking of pairs, and therefore clustering at a matching threshold, is preserved.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

CALIBRATION_FILE = "calibration.json"
Method = Literal["isotonic", "platt"]
_EPS = 1e-12


@dataclass(frozen=True)
class Calibrator:
    """A fitted monotone map from raw match probability to calibrated probability."""

    method: str
    # isotonic: breakpoints (raw probability -> calibrated), linearly interpolated
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    # platt: calibrated = sigmoid(a * match_weight + b), match_weight = log2 odds
    a: float = 1.0
    b: float = 0.0
    n_pairs: int = 0
    n_matches: int = 0

    def __call__(self, probabilities: Any) -> np.ndarray:
        p = np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
        if self.method == "isotonic":
            return np.interp(p, self.x, self.y)
        w = _match_weight(p)
        return 1.0 / (1.0 + np.exp(-(self.a * w + self.b)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        if path.is_dir():
            path = path / CALIBRATION_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2), "utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> Calibrator:
        path = Path(path)
        if path.is_dir():
            path = path / CALIBRATION_FILE
        return cls.from_dict(json.loads(path.read_text("utf-8")))


def _match_weight(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log2(p / (1 - p))


def fit(probabilities: Any, labels: Any, method: Method = "isotonic") -> Calibrator:
    """Fit a calibrator on raw match probabilities and 0/1 labels of the same pairs."""
    p = np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
    y = np.asarray(labels, dtype=int)
    if p.shape != y.shape or p.ndim != 1:
        raise ValueError("probabilities and labels must be 1-D arrays of the same length")
    if len(np.unique(y)) < 2:
        raise ValueError("calibration needs labelled matches and non-matches")
    counts = {"n_pairs": len(y), "n_matches": int(y.sum())}
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
        iso.fit(p, y)
        xs, ys = [float(v) for v in iso.X_thresholds_], [float(v) for v in iso.y_thresholds_]
        # extend to the whole [0, 1] range so interpolation never extrapolates
        if xs[0] > 0.0:
            xs, ys = [0.0, *xs], [ys[0], *ys]
        if xs[-1] < 1.0:
            xs, ys = [*xs, 1.0], [*ys, ys[-1]]
        return Calibrator(method="isotonic", x=xs, y=ys, **counts)
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6, max_iter=1000)
        lr.fit(_match_weight(p).reshape(-1, 1), y)
        return Calibrator(
            method="platt", a=float(lr.coef_[0][0]), b=float(lr.intercept_[0]), **counts
        )
    raise ValueError(f"unknown calibration method {method!r}; use isotonic or platt")


@dataclass(frozen=True)
class Reliability:
    """How well probabilities agree with outcomes, in equal-width probability bins."""

    ece: float  # expected calibration error: sum over bins of share * |mean p - match rate|
    max_gap: float  # the largest |mean p - match rate| over non-empty bins
    brier: float
    bins: list[dict[str, float]]  # lower, upper, count, mean_probability, match_rate

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reliability(probabilities: Any, labels: Any, n_bins: int = 10) -> Reliability:
    p = np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
    y = np.asarray(labels, dtype=float)
    if len(p) == 0:
        raise ValueError("no pairs to measure")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1], right=False), 0, n_bins - 1)
    bins, ece, max_gap = [], 0.0, 0.0
    for b in range(n_bins):
        mask = idx == b
        n = int(mask.sum())
        if n == 0:
            continue
        mean_p, rate = float(p[mask].mean()), float(y[mask].mean())
        gap = abs(mean_p - rate)
        ece += n / len(p) * gap
        max_gap = max(max_gap, gap)
        bins.append(
            {"lower": float(edges[b]), "upper": float(edges[b + 1]), "count": n,
             "mean_probability": mean_p, "match_rate": rate}
        )
    return Reliability(
        ece=float(ece), max_gap=float(max_gap), brier=float(np.mean((p - y) ** 2)), bins=bins
    )


def reliability_chart(
    curves: dict[str, Reliability], path: str | Path, title: str = "reliability"
) -> Path:
    """A reliability diagram (PNG): mean predicted probability vs observed match rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for name, rel in curves.items():
        xs = [b["mean_probability"] for b in rel.bins]
        ys = [b["match_rate"] for b in rel.bins]
        ax.plot(xs, ys, marker="o", label=f"{name} (ECE {rel.ece:.3f})")
    ax.set_xlabel("predicted match probability")
    ax.set_ylabel("share of labelled pairs that match")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def load_for_model(model: Any) -> Calibrator | None:
    """The calibrator of a model: a `LoadedModel`, a model folder, a calibration file,
    a `Calibrator`, or None. Returns None when the model has no calibrator."""
    if model is None or isinstance(model, Calibrator):
        return model
    cal = getattr(model, "calibration", None)
    if cal is not None or hasattr(model, "settings"):
        return Calibrator.from_dict(cal) if isinstance(cal, dict) else cal
    path = Path(model)
    if path.is_dir():
        found = sorted(path.rglob(CALIBRATION_FILE))
        return Calibrator.load(found[0]) if found else None
    if path.is_file():
        return Calibrator.load(path)
    return None


def apply(model: Any, probabilities: Any) -> np.ndarray:
    """Calibrated probabilities for raw pair probabilities; unchanged if no calibrator.

    `model` is a `training.registry.LoadedModel`, a downloaded model folder, a
    `calibration.json` path or a `Calibrator`.
    """
    cal = load_for_model(model)
    p = np.asarray(probabilities, dtype=float)
    return p if cal is None else cal(p)


def apply_sql(
    con, model: Any, table: str = "pairs", column: str = "match_probability"
) -> bool:
    """Calibrate `table.column` in place, in DuckDB; return False when there is no calibrator.

    Call it after scoring pairs and before clustering. The raw probability is kept in
    `raw_<column>` so the model's own score stays visible.
    """
    cal = load_for_model(model)
    if cal is None:
        return False
    raw = f"raw_{column}"
    have = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    if raw not in have:
        con.execute(f"ALTER TABLE {table} ADD COLUMN {raw} DOUBLE")
        con.execute(f"UPDATE {table} SET {raw} = {column}")
    con.execute(f"UPDATE {table} SET {column} = {sql_expression(cal, raw)}")
    return True


def sql_expression(cal: Calibrator, column: str) -> str:
    """A DuckDB expression computing the calibrated probability from `column`."""
    p = f"least(greatest({column}, 0.0), 1.0)"
    if cal.method == "platt":
        w = f"log2(greatest({p}, {_EPS}) / greatest(1 - {p}, {_EPS}))"
        return f"1.0 / (1.0 + exp(-({cal.a!r} * {w} + {cal.b!r})))"
    # piecewise-linear interpolation between consecutive breakpoints
    cases = []
    for (x0, y0), (x1, y1) in zip(zip(cal.x, cal.y), zip(cal.x[1:], cal.y[1:])):
        if x1 <= x0:
            continue
        slope = (y1 - y0) / (x1 - x0)
        cases.append(f"WHEN {p} <= {x1!r} THEN {y0!r} + ({p} - {x0!r}) * {slope!r}")
    if not cases:
        return repr(cal.y[-1] if cal.y else 0.0)
    return f"(CASE {' '.join(cases)} ELSE {cal.y[-1]!r} END)"
