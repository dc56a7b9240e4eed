"""Training, evaluation and MLflow tracking for resolution models.

The public Python API (see `training.api`)::

    import resolution as er
    import training

    model = training.train("customers.csv", "customer_zh", truth="truth.csv")
    model.match_weights_chart()                       # the fitted Splink linker's charts
    summary = er.dedup("customers.csv", "customer_zh", model, out="out")
    training.evaluate(summary, "truth.csv")           # pairwise and B-cubed P/R/F1

Names: `train`, `evaluate`, `TrainedModel`, `Metrics`, `list_models`, `promote`,
`ModelVersionInfo`. They are loaded on first use, like `resolution`'s. The steps live in
submodules: `fitting` (fit, evaluate on labels, log a run), `evaluation` (metrics against
a truth), `labels`, `calibration`, `diagnostics`, `registry`, `pyfunc` (what a registered
model loads: keep `training.pyfunc` and `training.calibration.Calibrator` importable).
"""

from __future__ import annotations

from typing import Any

_API = (
    "Metrics", "ModelVersionInfo", "TrainedModel", "evaluate", "list_models", "promote",
    "train",
)
__all__ = list(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        from training import api

        return getattr(api, name)
    raise AttributeError(f"module 'training' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
