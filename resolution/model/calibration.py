"""Calibration applied: a fitted monotone map from a model's raw pair probability to the
share of pairs at that score that really match (fitted by `training.calibration.fit`).

A calibrator is a small JSON file (`calibration.json`) next to the model's settings;
`apply(model, p)` (numbers) and `apply_sql(con, model)` (the `pairs` table) use it, and do
nothing when the model has none. It is monotone non-decreasing, so the ranking of pairs,
and therefore clustering at a matching threshold, is preserved. Jobs (`resolution`) and
training both use this module; fitting lives in `training.calibration`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATION_FILE = "calibration.json"
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
