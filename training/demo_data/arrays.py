"""Small vectorised numpy helpers the generator modules share: object arrays, weighted
categorical draws (also per row group), integer columns as strings, per-code fills, and
mapping a function over the distinct values of a column."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _arr(values, dtype=object) -> np.ndarray:
    values = list(values)
    out = np.empty(len(values), dtype=dtype)
    out[:] = values
    return out


def _pick(rng: np.random.Generator, n: int, weights) -> np.ndarray:
    cdf = np.cumsum(np.asarray(weights, dtype=float))
    return np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(n), side="right"), len(cdf) - 1)


def _pick_by(rng: np.random.Generator, group: np.ndarray, table) -> np.ndarray:
    """Categorical draw per row whose probabilities depend on `group` (row of `table`)."""
    cdf = np.cumsum(np.asarray(table, dtype=float), axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(group))
    return np.minimum((u[:, None] >= cdf[group]).sum(axis=1), cdf.shape[1] - 1)


def _s(a) -> np.ndarray:
    return np.asarray(a, dtype=np.int64).astype(str).astype(object)


def _z(a, width: int) -> np.ndarray:
    return np.char.zfill(np.asarray(a, dtype=np.int64).astype(str), width).astype(object)


def _none(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def _fill(out: np.ndarray, code: np.ndarray, forms: dict) -> None:
    """out[code == k] = forms[k](index array) for each k."""
    for k, make in forms.items():
        ix = np.flatnonzero(code == k)
        if len(ix):
            out[ix] = make(ix)


def _map_unique(values: np.ndarray, fn) -> np.ndarray:
    """Apply fn to each distinct non-null value once."""
    out = values.copy()
    mask = np.array([v is not None for v in values], dtype=bool)
    if not mask.any():
        return out
    codes, uniques = pd.factorize(pd.Series(values[mask], dtype=object))
    mapped = np.array([fn(u) for u in uniques], dtype=object)
    out[mask] = mapped[codes]
    return out


def _upper(a: np.ndarray) -> np.ndarray:
    return np.array([s.upper() for s in a], dtype=object)
