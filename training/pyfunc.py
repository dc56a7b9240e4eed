"""Logging a resolution model as an MLflow pyfunc model and registering it.

The model itself (`load_context`, `predict`) is `resolution.model.pyfunc.ResolutionModel`:
loading and applying it needs only `resolution`, not `training`. Its artifacts are the
Splink settings JSON, the config YAML it was trained with, `training.json` (link type,
recommended threshold, training size, how it was trained), the term-frequency tables of
its training records (`term_frequencies/`) and, when trained on labels, `calibration.json`.
Its requirements list this project (`resolution`) with the exact Splink and DuckDB it was
trained with.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

# models registered before the class moved to `resolution` import it from here
from resolution.model.pyfunc import ResolutionModel  # noqa: F401


def signature_for(config):
    """Input: the columns the config reads (all optional text); output: the crosswalk;
    params: `threshold` or `use_recommended_threshold` (else the config's)."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

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
    params = ParamSchema([
        ParamSpec("threshold", "double", None),
        ParamSpec("use_recommended_threshold", "boolean", False),
    ])
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def log_pyfunc_model(
    mlflow,
    settings_path: Path,
    config_path: Path,
    name: str,
    *,
    calibration_path: Path | None = None,
    meta_path: Path | None = None,
    config=None,
    tf_dir: Path | None = None,
) -> str:
    """Log the model under the active run, register it as `name`; return the version.

    `tf_dir` is the folder of term-frequency tables (`resolution.model.loading.TF_DIR`)."""
    import warnings
    from importlib.metadata import version

    import duckdb
    import splink

    artifacts = {"settings": str(settings_path), "config": str(config_path)}
    if calibration_path is not None:
        artifacts["calibration"] = str(calibration_path)
    if meta_path is not None:
        artifacts["training"] = str(meta_path)
    if tf_dir is not None:
        artifacts["term_frequencies"] = str(tf_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(Path(__file__).with_name("pyfunc_model.py")),
            signature=signature_for(config) if config is not None else None,
            artifacts=artifacts,
            registered_model_name=name,
            pip_requirements=[
                # the project: resolution.model.pyfunc and everything a job runs
                f"resolution=={version('resolution')}",
                f"splink=={splink.__version__}",
                f"duckdb=={duckdb.__version__}",
                f"pandas=={pd.__version__}",
                "pyyaml",
            ],
        )
    return str(info.registered_model_version)
