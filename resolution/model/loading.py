"""Model loading: where MLflow runs live, and how a model reference becomes a `LoadedModel`.

A model is the trained Splink settings JSON plus the config it was trained with (and, when
trained on labels, its calibrator). Jobs resolve `models:/NAME@ALIAS`,
`models:/NAME/VERSION`, a run ID, a saved model folder or a settings-JSON path to a
`LoadedModel`. Logging and
registering models is training's work (`training.registry`).
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
CALIBRATION_FILE = "calibration.json"
META_FILE = "training.json"


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
    # the fitted calibrator (training.calibration.Calibrator as a dict), when trained on labels
    calibration: dict[str, Any] | None = None
    # training.json: link_type, recommended_threshold, m_from, labels ...
    meta: dict[str, Any] | None = None

    @property
    def link_type(self) -> str:
        return self.settings.get("link_type", "dedupe_only")


def _load_dir(path: Path, reference: str) -> LoadedModel:
    def find(name: str) -> Path | None:
        return next(iter(sorted(path.rglob(name))), None)

    settings_path = find(SETTINGS_FILE)
    if settings_path is None:
        raise ModelError(f"model {reference} has no {SETTINGS_FILE}")
    config_path, cal_path, meta_path = find(CONFIG_FILE), find(CALIBRATION_FILE), find(META_FILE)
    return LoadedModel(
        settings=json.loads(settings_path.read_text(encoding="utf-8")),
        config_yaml=config_path.read_text(encoding="utf-8") if config_path else None,
        reference=reference,
        calibration=json.loads(cal_path.read_text("utf-8")) if cal_path else None,
        meta=json.loads(meta_path.read_text("utf-8")) if meta_path else None,
    )


def _with_siblings(settings: dict[str, Any], folder: Path, reference: str) -> LoadedModel:
    def read(name: str) -> str | None:
        f = folder / name
        return f.read_text("utf-8") if f.is_file() else None

    cal, meta = read(CALIBRATION_FILE), read(META_FILE)
    try:
        return LoadedModel(
            settings=settings,
            config_yaml=read(CONFIG_FILE),
            reference=reference,
            calibration=json.loads(cal) if cal else None,
            meta=json.loads(meta) if meta else None,
        )
    except json.JSONDecodeError as exc:
        raise ModelError(f"{reference}: a file next to it is not valid JSON ({exc})")


def resolve_model(reference: str) -> LoadedModel:
    """Load a model from a registry URI, a run ID, a saved model folder or a settings-JSON
    path (a `settings.json` brings the calibration.json, config.yaml and training.json next
    to it)."""
    p = Path(reference)
    if p.is_dir() and (p / SETTINGS_FILE).is_file():
        # a saved model folder (`training.train(...).save`): settings and what lies next to it
        p = p / SETTINGS_FILE
    if reference.endswith(".json") or p.is_file():
        if not p.is_file():
            raise ModelError(f"model file not found: {reference}")
        try:
            settings = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelError(f"{reference}: not a Splink settings JSON ({exc})")
        if not isinstance(settings, dict) or "comparisons" not in settings:
            raise ModelError(f"{reference}: not a Splink settings JSON (no 'comparisons')")
        if p.name != SETTINGS_FILE:
            return LoadedModel(settings=settings, config_yaml=None, reference=reference)
        # a model's settings.json (saved or downloaded) brings its calibrator, config and
        # training.json when they lie next to it, as a registered model would
        return _with_siblings(settings, p.parent, reference)
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
                for extra in (CONFIG_FILE, CALIBRATION_FILE, META_FILE):
                    try:
                        mlflow.artifacts.download_artifacts(
                            run_id=reference, artifact_path=extra, dst_path=tmp
                        )
                    except (MlflowException, OSError):
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
