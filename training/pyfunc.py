"""The MLflow pyfunc flavour of a resolution model.

`mlflow.pyfunc.load_model("models:/NAME@ALIAS").predict(df)` takes a DataFrame of customer
records (canonical columns, or the columns the model's config maps) and returns one row
per accepted record: `record_id`, `entity_id`, `membership_confidence`,
`cluster_confidence`. Records whose id is empty or repeated are not resolved (as in a
batch job they would go to `rejected`).

The model's artifacts are the Splink settings JSON, the config YAML it was trained with,
`training.json` (link type, recommended threshold, how it was trained) and, when it was
trained on labels, `calibration.json` (see `training.calibration`). The runtime code
(`resolution`, `training`) must be importable where the model is loaded.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import mlflow.pyfunc
import pandas as pd


class ResolutionModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        import yaml

        from resolution.config import config_from_dict
        from training.calibration import Calibrator

        arts = context.artifacts
        self.settings = json.loads(Path(arts["settings"]).read_text("utf-8"))
        self.config = config_from_dict(
            yaml.safe_load(Path(arts["config"]).read_text("utf-8")), "model config"
        )
        self.calibrator = Calibrator.load(arts["calibration"]) if "calibration" in arts else None
        self.meta = (
            json.loads(Path(arts["training"]).read_text("utf-8")) if "training" in arts else {}
        )

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from resolution.pipeline import resolve_frame

        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        kwargs = {}
        # The calibrator is applied to pair probabilities before clustering once the
        # pipeline accepts one (see training.calibration.apply_sql).
        if self.calibrator is not None and "calibrator" in inspect.signature(
            resolve_frame
        ).parameters:
            kwargs["calibrator"] = self.calibrator
        return resolve_frame(model_input, self.config, self.settings, **kwargs)


def signature_for(config):
    """Input: the columns the config reads (all optional text); output: the crosswalk."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    from resolution.config import CANONICAL_FIELDS

    names = []
    for f in CANONICAL_FIELDS:
        col = config.source.columns.get(f, f)
        if col not in names:
            names.append(col)
    inputs = Schema([ColSpec("string", n, required=False) for n in names])
    outputs = Schema(
        [
            ColSpec("string", "record_id"),
            ColSpec("string", "entity_id"),
            ColSpec("double", "membership_confidence"),
            ColSpec("double", "cluster_confidence"),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def log_pyfunc_model(
    mlflow,
    settings_path: Path,
    config_path: Path,
    name: str,
    *,
    calibration_path: Path | None = None,
    meta_path: Path | None = None,
    config=None,
) -> str:
    """Log the model under the active run, register it as `name`; return the version."""
    import warnings

    import duckdb
    import splink

    artifacts = {"settings": str(settings_path), "config": str(config_path)}
    if calibration_path is not None:
        artifacts["calibration"] = str(calibration_path)
    if meta_path is not None:
        artifacts["training"] = str(meta_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(Path(__file__).with_name("pyfunc_model.py")),
            signature=signature_for(config) if config is not None else None,
            artifacts=artifacts,
            registered_model_name=name,
            pip_requirements=[
                f"splink=={splink.__version__}",
                f"duckdb=={duckdb.__version__}",
                f"pandas=={pd.__version__}",
                "pyyaml",
            ],
        )
    return str(info.registered_model_version)
