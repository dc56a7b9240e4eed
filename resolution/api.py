"""The public Python API, re-exported as `import resolution as er`.

Every CLI command that applies a model is one call here, so a notebook or a scheduler does
what `er dedup` does without reaching into the stages:

    import resolution as er

    config = er.load_config()                       # the customer_zh preset, or a YAML path
    model = er.load_model("models:/customer_zh_demo@champion")
    summary = er.dedup("customers.csv", config, model, out="out")
    er.match("new.csv", config, model, store="out/store.duckdb")
    report = er.profile(frame, config, out="profile")   # a pandas DataFrame works too
    checker = er.Checker.from_reference("out/store.duckdb", "models:/customer_zh_demo@champion", config)

Inputs are file paths (CSV, xlsx, Parquet), a list of them, or a pandas DataFrame / Arrow
table (written to a temporary Parquet file and read by the same ingest as files). Models
are a `LoadedModel`, a reference (`models:/NAME@ALIAS`, `models:/NAME/VERSION`, a run ID, a
saved model folder or settings .json path), a Splink settings dict, or the model
`training.train` returns (anything with an `as_loaded()` giving a `LoadedModel`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from resolution import crypto, incremental, pipeline
from resolution.check import Checker
from resolution.config import DEFAULT_CONFIG, Config, preset
from resolution.config import load_config as _load_config_file
from resolution.errors import ConfigError, InputError, ModelError, ResolutionError
from resolution.incremental import MatchSummary
from resolution.model.loading import LoadedModel, as_loaded, resolve_model
from resolution.pipeline import JobSummary

Data = Any  # a path, a list of paths, a pandas DataFrame or a pyarrow Table
ConfigLike = Config | str | Path | None
ModelLike = LoadedModel | str | Path | dict | Any  # Any: an object with as_loaded()


def load_config(path: str | Path | None = None) -> Config:
    """A validated config: a YAML path, a preset name (`customer_zh`, `febrl`, `rldata`), or
    the default preset when None."""
    if path is None:
        return _load_config_file(DEFAULT_CONFIG)
    p = Path(path)
    if not p.suffix and not p.exists():
        return _load_config_file(preset(str(path)))
    return _load_config_file(p)


def load_model(reference: str | Path) -> LoadedModel:
    """A model from `models:/NAME@ALIAS`, `models:/NAME/VERSION`, a run ID, a folder saved
    by `training.train(...).save` or a settings .json path (MLflow tracking:
    `MLFLOW_TRACKING_URI`, else ./mlflow.db)."""
    return resolve_model(str(reference))


def _config(config: ConfigLike) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def _model(model: ModelLike) -> LoadedModel:
    return as_loaded(model)


@contextmanager
def input_files(data: Data) -> Iterator[list[Path]]:
    """Input files for the ingest: paths as given, a frame written to temporary Parquet
    (deleted on leaving the block). Training (`training.train`) reads frames through it too."""
    if isinstance(data, (str, Path)):
        yield [Path(data)]
        return
    if isinstance(data, (list, tuple)):
        yield [Path(d) for d in data]
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(data, pa.Table):
        table = data
    elif hasattr(data, "to_parquet") and hasattr(data, "columns"):  # pandas
        table = pa.Table.from_pandas(data.astype("string"), preserve_index=False)
    else:
        raise InputError(
            f"cannot read input of type {type(data).__name__}; pass a file path, a list of "
            "paths, a pandas DataFrame or a pyarrow Table"
        )
    with crypto.scratch_dir("er-frame-") as tmp:
        path = Path(tmp) / "records.parquet"
        pq.write_table(table.cast(pa.schema([(f.name, pa.string()) for f in table.schema])),
                       path)
        yield [path]


def dedup(
    data: Data,
    config: ConfigLike,
    model: ModelLike,
    out: str | Path,
    *,
    store: str | Path | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    backend: str = "duckdb",
    on_stage=None,
    lock_wait: float = 0.0,
    threshold: float | None = None,
    use_recommended_threshold: bool = False,
) -> JobSummary:
    """The batch job (`er dedup`): outputs in `out`, the store updated (`store`, else the
    config's `store.path`, else `out/store.duckdb`). Links at `threshold`, the model's
    recommended threshold with `use_recommended_threshold`, else the config's
    `thresholds.match`. Returns the job's summary."""
    cfg, loaded = _config(config), _model(model)
    with input_files(data) as files:
        return pipeline.dedup(
            cfg, loaded, files, out, loaded.reference, encoding, on_stage,
            store_path=store, backend=backend, lock_wait=lock_wait, sheet=sheet,
            threshold=threshold, use_recommended_threshold=use_recommended_threshold,
        )


def match(
    data: Data,
    config: ConfigLike,
    model: ModelLike,
    store: str | Path,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    on_stage=None,
    lock_wait: float = 0.0,
) -> MatchSummary:
    """Attach new records to a store's entities (`er match`)."""
    cfg, loaded = _config(config), _model(model)
    with input_files(data) as files:
        return incremental.match(cfg, loaded.settings, files, store, encoding, on_stage,
                                 loaded.calibration, lock_wait=lock_wait, sheet=sheet)


def profile(data: Data, config: ConfigLike = None, out: str | Path = "profile", *,
            encoding: str | None = None, sheet: str | None = None, on_stage=None) -> dict:
    """Standardize, validate and write the data-quality report (`er profile`)."""
    with input_files(data) as files:
        return pipeline.profile(_config(config), files, out, encoding, on_stage, sheet=sheet)


__all__ = [
    "Checker",
    "Config",
    "ConfigError",
    "InputError",
    "JobSummary",
    "LoadedModel",
    "MatchSummary",
    "ModelError",
    "ResolutionError",
    "dedup",
    "load_config",
    "load_model",
    "match",
    "profile",
]
