"""The MLflow pyfunc flavour of a resolution model.

`mlflow.pyfunc.load_model("models:/NAME@ALIAS").predict(df)` takes a DataFrame of customer
records (canonical columns, or the columns the model's config maps) and returns one row
per accepted record: `record_id`, `entity_id`, `membership_confidence`,
`cluster_confidence`.
"""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc

from training.registry import CONFIG_FILE, SETTINGS_FILE


class ResolutionModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        import json

        from resolution.config import config_from_dict

        import yaml

        self.settings = json.loads(Path(context.artifacts["settings"]).read_text("utf-8"))
        self.config = config_from_dict(
            yaml.safe_load(Path(context.artifacts["config"]).read_text("utf-8")), "model config"
        )

    def predict(self, context, model_input, params=None):
        from resolution.pipeline import resolve_frame

        return resolve_frame(model_input, self.config, self.settings)


def log_pyfunc_model(mlflow, settings_path: Path, config_path: Path, name: str) -> str:
    """Log the model under the active run, register it as `name`; return the version."""
    import warnings

    import duckdb
    import splink

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = _log(mlflow, settings_path, config_path, name, splink, duckdb)
    return str(info.registered_model_version)


def _log(mlflow, settings_path, config_path, name, splink, duckdb):
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=ResolutionModel(),
        artifacts={"settings": str(settings_path), "config": str(config_path)},
        registered_model_name=name,
        pip_requirements=[f"splink=={splink.__version__}", f"duckdb=={duckdb.__version__}"],
    )
