"""MLflow tracking and registry: where runs go, and how a model reference is resolved.

A model is the trained Splink settings JSON plus the config it was trained with. It is
logged as an MLflow pyfunc model (so it can be served wherever MLflow models work) and
registered. Jobs resolve `models:/NAME@ALIAS`, `models:/NAME/VERSION`, a run ID, or a
settings-JSON path to a `LoadedModel`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from resolution.errors import ModelError
from resolution.model.loading import (  # noqa: F401 - the registry's public names
    CALIBRATION_FILE,
    CONFIG_FILE,
    META_FILE,
    SETTINGS_FILE,
    LoadedModel,
    configure_mlflow,
    resolve_model,
    tracking_uri,
)


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
