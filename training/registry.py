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


@dataclass(frozen=True)
class ModelVersionInfo:
    name: str
    version: str
    aliases: list[str]
    run_id: str | None
    created: str
    metrics: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


SUMMARY_METRICS = (
    "pairs_f1_at_recommended",
    "clusters_pairwise_f1",
    "clusters_bcubed_f1",
    "recommended_threshold",
    "ece_calibrated",
    "probability_two_random_records_match",
)


def list_models(name: str | None = None) -> list[ModelVersionInfo]:
    """Every registered version (of `name`, or of all models), newest first per model."""
    import datetime

    mlflow = configure_mlflow()
    client = mlflow.MlflowClient()
    names = [name] if name else sorted(m.name for m in client.search_registered_models())
    out: list[ModelVersionInfo] = []
    from mlflow.exceptions import MlflowException

    for n in names:
        try:
            versions = client.search_model_versions(f"name = '{n}'")
        except MlflowException as exc:
            raise ModelError(f"cannot list model {n}: {str(exc).splitlines()[0][:200]}")
        if name and not versions:
            raise ModelError(f"no registered model named '{n}' in {tracking_uri()}")
        by_version: dict[str, list[str]] = {}
        try:
            for alias, ver in (client.get_registered_model(n).aliases or {}).items():
                by_version.setdefault(str(ver), []).append(alias)
        except MlflowException:
            pass
        for v in sorted(versions, key=lambda v: int(v.version), reverse=True):
            metrics: dict[str, float] = {}
            if v.run_id:
                try:
                    run_metrics = client.get_run(v.run_id).data.metrics
                    metrics = {k: run_metrics[k] for k in SUMMARY_METRICS if k in run_metrics}
                except MlflowException:
                    pass
            created = datetime.datetime.fromtimestamp(v.creation_timestamp / 1000)
            out.append(
                ModelVersionInfo(
                    name=v.name,
                    version=str(v.version),
                    aliases=sorted(set(getattr(v, "aliases", None) or [])
                                   | set(by_version.get(str(v.version), []))),
                    run_id=v.run_id,
                    created=created.strftime("%Y-%m-%d %H:%M"),
                    metrics=metrics,
                )
            )
    return out


def promote(name: str, version: str, alias: str = "champion") -> ModelVersionInfo:
    """Point `alias` at NAME/VERSION (moving it from any other version)."""
    mlflow = configure_mlflow()
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        client.get_model_version(name, str(version))
    except MlflowException:
        raise ModelError(
            f"model {name} has no version {version} in {tracking_uri()} "
            "(see `er models list`)"
        )
    if not re.fullmatch(r"[A-Za-z][\w-]*", alias) or re.fullmatch(r"[vV]\d+", alias):
        raise ModelError(f"bad alias '{alias}': use letters, digits, '_' or '-', not v<number>")
    client.set_registered_model_alias(name, alias, str(version))
    return next(v for v in list_models(name) if v.version == str(version))
