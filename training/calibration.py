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

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from resolution.model.calibration import (  # noqa: F401 - registered models import these here
    _EPS,
    CALIBRATION_FILE,
    Calibrator,
    _match_weight,
    apply,
    apply_sql,
    load_for_model,
    sql_expression,
)

Method = Literal["isotonic", "platt"]


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
