"""Model loading: where MLflow runs live, and how a model reference becomes a `LoadedModel`.

A model is the trained Splink settings JSON plus the config it was trained with, the
term-frequency tables of its training records (`term_frequencies/COLUMN.parquet`) and,
when trained on labels, its calibrator and recommended threshold. Jobs resolve
`models:/NAME@ALIAS`, `models:/NAME/VERSION`, a run ID, a saved model folder or a
settings-JSON path to a `LoadedModel` (a registered model's name, version and run ID
included), and take their match threshold from `LoadedModel.match_threshold`. Logging and
registering models is training's work (`training.registry`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from resolution.errors import InputError, ModelError

SETTINGS_FILE = "settings.json"
CONFIG_FILE = "config.yaml"
CALIBRATION_FILE = "calibration.json"
META_FILE = "training.json"
# term-frequency tables of the training records, one Parquet file per column: every job
# scores with them, so a pair's score does not depend on what else is in the batch
TF_DIR = "term_frequencies"


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
    # column -> pyarrow Table (column, tf_column) of the training records; None for a
    # model saved without them (its jobs then count term frequencies in their own input)
    tf_tables: dict[str, Any] | None = None
    # where the registry has it: the registered name and version (an alias resolved) and
    # the MLflow run that trained it
    name: str | None = None
    version: str | None = None
    run_id: str | None = None

    @property
    def link_type(self) -> str:
        return self.settings.get("link_type", "dedupe_only")

    @property
    def trained_on_records(self) -> int | None:
        return (self.meta or {}).get("trained_on_records")

    @property
    def calibrator(self):
        """The fitted `Calibrator`, or None when the model was not calibrated."""
        from resolution.model.calibration import Calibrator

        return Calibrator.from_dict(self.calibration) if self.calibration else None

    def recommended_threshold(self) -> float | None:
        """The threshold training recommended from labels, on the scale jobs compare: the
        calibrated probability when the model has a calibrator (training recommends it on
        the raw probability; the calibrator is monotone, so the same pairs stay above)."""
        raw = (self.meta or {}).get("recommended_threshold")
        if raw is None:
            return None
        cal = self.calibrator
        return float(cal([raw])[0]) if cal is not None else float(raw)

    def match_threshold(
        self, config_match: float, threshold: float | None = None,
        use_recommended: bool = False,
    ) -> tuple[float, str]:
        """The one pair-probability threshold a job links at, and where it came from:
        `threshold` ("option"), the model's recommended one ("recommended"), else the
        config's `thresholds.match` ("config")."""
        if threshold is not None and use_recommended:
            raise InputError("give --threshold or --use-recommended-threshold, not both")
        if threshold is not None:
            if not 0 < threshold < 1:
                raise InputError(f"--threshold must be between 0 and 1 (exclusive), not {threshold}")
            return float(threshold), "option"
        if use_recommended:
            rec = self.recommended_threshold()
            if rec is None:
                raise ModelError(
                    f"model {self.reference} has no recommended threshold (it was trained "
                    "without labels); give --threshold or use the config's thresholds.match"
                )
            return rec, "recommended"
        return float(config_match), "config"


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
        tf_tables=read_tf_tables(settings_path.parent / TF_DIR),
    )


def write_tf_tables(tables: dict[str, Any] | None, folder: Path) -> Path | None:
    """Write term-frequency tables (column -> pyarrow Table) as `folder/COLUMN.parquet`."""
    if not tables:
        return None
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):  # an earlier save's tables are not this model's
        old.unlink()
    for column, table in tables.items():
        pq.write_table(table, folder / f"{column}.parquet")
    return folder


def read_tf_tables(folder: Path) -> dict[str, Any] | None:
    """The term-frequency tables in `folder` (None when the model has none)."""
    if not folder.is_dir():
        return None
    import pyarrow.parquet as pq

    tables = {f.stem: pq.read_table(f) for f in sorted(folder.glob("*.parquet"))}
    return tables or None


def as_loaded(model: Any) -> LoadedModel:
    """A `LoadedModel` from a `LoadedModel`, a Splink settings dict (no calibrator, no
    term-frequency tables), an object with `as_loaded()` (a model `training.train`
    returned) or a reference `resolve_model` reads."""
    if isinstance(model, LoadedModel):
        return model
    if hasattr(model, "as_loaded"):
        return model.as_loaded()
    if isinstance(model, dict):
        if "comparisons" not in model:
            raise ModelError("a settings dict must be Splink settings (it has no 'comparisons')")
        return LoadedModel(settings=model, config_yaml=None, reference="<settings dict>")
    return resolve_model(str(model))


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
            tf_tables=read_tf_tables(folder / TF_DIR),
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

    name = version = run_id = None
    with tempfile.TemporaryDirectory(prefix="er-model-") as tmp:
        try:
            if reference.startswith("models:/"):
                name, version, run_id = _registered_version(mlflow, reference)
                # the version the alias points to now, so what is loaded is what is recorded
                uri = f"models:/{name}/{version}" if version else reference
                local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp)
            elif re.fullmatch(r"[0-9a-f]{32}", reference):
                run_id = reference
                local = mlflow.artifacts.download_artifacts(
                    run_id=reference, artifact_path=SETTINGS_FILE, dst_path=tmp
                )
                for extra in (CONFIG_FILE, CALIBRATION_FILE, META_FILE, TF_DIR):
                    try:
                        mlflow.artifacts.download_artifacts(
                            run_id=reference, artifact_path=extra, dst_path=tmp
                        )
                    except (MlflowException, OSError):
                        pass
                found = mlflow.MlflowClient().search_model_versions(f"run_id = '{run_id}'")
                if len(found) == 1:
                    name, version = found[0].name, str(found[0].version)
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
        loaded = _load_dir(Path(local), reference)
    return replace(loaded, name=name, version=version, run_id=run_id)


def _registered_version(mlflow: Any, reference: str) -> tuple[str, str | None, str | None]:
    """(name, version, run ID) of `models:/NAME@ALIAS` or `models:/NAME/VERSION`; version
    and run ID are None for a form the registry does not resolve here (e.g. a stage)."""
    body = reference[len("models:/"):]
    client = mlflow.MlflowClient()
    if "@" in body:
        name, alias = body.split("@", 1)
        mv = client.get_model_version_by_alias(name, alias)
    else:
        name, _, ver = body.partition("/")
        if not ver.isdigit():
            return name, None, None
        mv = client.get_model_version(name, ver)
    return name, str(mv.version), mv.run_id
