"""The model layer: everything a job and training both need to know about a model.

- `settings`: Splink settings built from a config, blocking-rule SQL, the table Splink reads;
- `calibration`: a fitted calibrator applied to pair probabilities;
- `loading`: MLflow locations and resolving a model reference to a `LoadedModel` (its
  term-frequency tables, registered name and version, and the one match threshold);
- `pyfunc`: the registered MLflow model's `load_context` / `predict` (no `training` needed).

`resolution` applies models and never imports `training`; `training` fits, evaluates and
registers them on top of this layer.
"""

from resolution.model.calibration import Calibrator, apply_sql
from resolution.model.loading import LoadedModel, configure_mlflow, resolve_model, tracking_uri
from resolution.model.settings import blocking_rule_sql, build_settings, training_table

__all__ = [
    "Calibrator",
    "LoadedModel",
    "apply_sql",
    "blocking_rule_sql",
    "build_settings",
    "configure_mlflow",
    "resolve_model",
    "tracking_uri",
    "training_table",
]
