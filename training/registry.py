"""MLflow tracking and registry: where runs go, and how a model reference is resolved.

A model is the trained Splink settings JSON plus the config it was trained with. It is
logged as an MLflow pyfunc model (so it can be served wherever MLflow models work) and
registered. Jobs resolve `models:/NAME@ALIAS`, `models:/NAME/VERSION`, a run ID, or a
settings-JSON path to a `LoadedModel`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resolution.errors import ModelError

SETTINGS_FILE = "settings.json"
CONFIG_FILE = "config.yaml"


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI when set, else a SQLite store `mlflow.db` in the working folder."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def configure_mlflow() -> Any:
    import logging

    import mlflow

    for name in ("mlflow", "alembic", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)
    mlflow.set_tracking_uri(tracking_uri())
    return mlflow


@dataclass(frozen=True)
class LoadedModel:
    settings: dict[str, Any]
    config_yaml: str | None
    reference: str


def _load_dir(path: Path, reference: str) -> LoadedModel:
    settings_path = next(iter(sorted(path.rglob(SETTINGS_FILE))), None)
    if settings_path is None:
        raise ModelError(f"model {reference} has no {SETTINGS_FILE}")
    config_path = next(iter(sorted(path.rglob(CONFIG_FILE))), None)
    return LoadedModel(
        settings=json.loads(settings_path.read_text(encoding="utf-8")),
        config_yaml=config_path.read_text(encoding="utf-8") if config_path else None,
        reference=reference,
    )


def resolve_model(reference: str) -> LoadedModel:
    """Load a model from a registry URI, a run ID or a settings-JSON path."""
    p = Path(reference)
    if reference.endswith(".json") or p.is_file():
        if not p.is_file():
            raise ModelError(f"model file not found: {reference}")
        try:
            settings = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelError(f"{reference}: not a Splink settings JSON ({exc})")
        if not isinstance(settings, dict) or "comparisons" not in settings:
            raise ModelError(f"{reference}: not a Splink settings JSON (no 'comparisons')")
        return LoadedModel(settings=settings, config_yaml=None, reference=reference)
    mlflow = configure_mlflow()
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory(prefix="er-model-") as tmp:
        try:
            if reference.startswith("models:/"):
                local = mlflow.artifacts.download_artifacts(artifact_uri=reference, dst_path=tmp)
            elif re.fullmatch(r"[0-9a-f]{32}", reference):
                local = mlflow.artifacts.download_artifacts(
                    run_id=reference, artifact_path=SETTINGS_FILE, dst_path=tmp
                )
                try:
                    mlflow.artifacts.download_artifacts(
                        run_id=reference, artifact_path=CONFIG_FILE, dst_path=tmp
                    )
                except MlflowException:
                    pass
                local = tmp
            else:
                raise ModelError(
                    f"unknown model reference '{reference}'; use models:/NAME@ALIAS, "
                    "models:/NAME/VERSION, a run ID or a settings .json path"
                )
        except MlflowException as exc:
            first = str(exc).splitlines()[0][:300]
            raise ModelError(
                f"cannot load model '{reference}' from {tracking_uri()}: {first} "
                "(list models with `er models list`)"
            )
        return _load_dir(Path(local), reference)
