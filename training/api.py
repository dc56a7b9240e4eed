"""The training facade, re-exported as `import training`.

    import resolution as er
    import training

    model = training.train(frame, "customer_zh")            # fit only: nothing is logged
    model.match_weights_chart()                              # Splink's charts, one call away
    summary = er.dedup(frame, "customer_zh", model, out="out")
    training.evaluate(summary, truth)                        # pairwise and B-cubed P/R/F1
    supervised = training.train(frame, truth=truth).register("customer_zh")
    training.promote("customer_zh", supervised.version, "champion")

`train` takes the data as `er.dedup` does (paths, a pandas DataFrame or an Arrow table) and
the config as `er.load_config` does (a Config, a YAML path, a preset name or None). It
returns a `TrainedModel` that keeps the fitted Splink linker and its DuckDB connection open
until `close()` (or the end of a `with` block). With `register=True` (or `model.register()`
later) it logs an MLflow run and registers the model, as `er train` does.
"""

from __future__ import annotations

import contextlib
import weakref
from pathlib import Path
from typing import Any, Self

from resolution.api import Data, input_files
from resolution.api import load_config as _load_config
from resolution.config import DEFAULT_CONFIG, Config, preset
from resolution.errors import InputError, ResolutionError
from resolution.model.loading import (
    CALIBRATION_FILE,
    CONFIG_FILE,
    META_FILE,
    SETTINGS_FILE,
    TF_DIR,
    LoadedModel,
    write_tf_tables,
)
from training import fitting
from training.evaluation import Metrics, evaluate_job
from training.registry import ModelVersionInfo, list_models, promote

ConfigLike = Config | str | Path | None


def _config_and_text(config: ConfigLike) -> tuple[Config, str]:
    """The config and the YAML logged with the model: the file's own text when the config
    comes from a file, else the Config dumped to YAML."""
    import yaml

    if isinstance(config, Config):
        return config, yaml.safe_dump(config.model_dump(mode="json"), allow_unicode=True,
                                      sort_keys=False)
    cfg = _load_config(config)
    # the file load_config read (None: the default preset; a bare name: a preset)
    if config is None:
        path = DEFAULT_CONFIG
    else:
        path = Path(config)
        if not path.suffix and not path.exists():
            path = preset(str(config))
    return cfg, path.read_text(encoding="utf-8")


@contextlib.contextmanager
def _label_file(labels: Data | None):
    """A truth or pairs file given as a path or a frame (written to temporary Parquet)."""
    if labels is None:
        yield None
        return
    if isinstance(labels, (list, tuple)):
        raise InputError("give one labels file (or one frame), not a list")
    with input_files(labels) as files:
        yield files[0]


class TrainedModel:
    """A model fitted by `train`, its Splink linker still open on the training records.

    Use it as the model of `er.dedup` / `er.match`, look at it with Splink's charts, save it
    with `save`, and `close()` it (or use it in a `with` block) to free its DuckDB
    connection and temporary files. `model_uri`, `version` and `run_id` are None unless it
    was registered.
    """

    def __init__(self, session: fitting.Session, config_text: str, name: str | None,
                 run: fitting.RunInfo | None = None) -> None:
        self._session = session
        self._closed = False
        self._finalizer = weakref.finalize(self, session.close)
        self._scorer = None
        self._predictions = None
        self.config: Config = session.config
        self.config_text = config_text
        self.name = name
        self.settings: dict[str, Any] = session.fitted.settings
        cal = session.calibrator
        self.calibration: dict[str, Any] | None = cal.to_dict() if cal is not None else None
        self.warnings: list[str] = list(session.warnings)
        self.metrics: dict[str, float] = session.metrics()
        self.seconds: dict[str, float] = dict(session.seconds)
        self.meta: dict[str, Any] = session.meta()
        self.tf_tables: dict[str, Any] = dict(session.tf_tables)
        # records, pairs for u, λ, EM rounds: what `er train` prints about the fit
        self.key_figures: list[str] = session.key_figures()
        # labelled pairs used, match / non-match, by source for the store's labels
        self.label_counts: list[str] = session.label_counts()
        # training.diagnostics.training_health (their messages are among `warnings`)
        self.health: list[dict[str, Any]] = list(session.fitted.health)
        ev = session.evaluation
        self.recommended_threshold: float | None = ev.recommended_threshold if ev else None
        self._set_run(run)

    def _set_run(self, run: fitting.RunInfo | None) -> None:
        self.run_id = run.run_id if run else None
        self.version = run.version if run else None
        self.model_uri = run.model_uri if run else None
        self.tracking_uri = run.tracking_uri if run else None
        self.experiment_id = run.experiment_id if run else None

    def __repr__(self) -> str:
        where = self.model_uri or "not registered"
        state = ", closed" if self._closed else ""
        return f"<TrainedModel {self.name or '(unnamed)'} ({where}{state})>"

    # ------------------------------------------------------------------ the model

    def as_loaded(self) -> LoadedModel:
        """The model as jobs take it (`er.dedup(data, config, trained_model, ...)`)."""
        return LoadedModel(
            settings=self.settings,
            config_yaml=self.config_text,
            reference=self.model_uri or f"training.train ({self.name or 'not registered'})",
            calibration=self.calibration,
            meta=self.meta,
            tf_tables=self.tf_tables or None,
            name=self.name if self.version else None,
            version=self.version,
            run_id=self.run_id,
        )

    def register(self, name: str | None = None, *, experiment: str | None = None,
                 tags: dict[str, str] | None = None) -> TrainedModel:
        """Log this model's MLflow run (experiment default `er-NAME`) and register it as
        `name` (default: the name given to `train`), as `er train` does; returns self with
        `model_uri`, `version` and `run_id` set."""
        name = name or self.name
        if not name:
            raise InputError("registering needs a name to register the model under")
        if self.model_uri is not None:
            raise ResolutionError(f"this model is already registered as {self.model_uri}")
        if self._closed:
            raise ResolutionError("this trained model is closed; register it before close()")
        self._set_run(fitting.log_run(self._session, self.config_text, name, experiment, tags))
        self.name = name
        return self

    def save(self, path: str | Path) -> Path:
        """Write the model to the folder `path`: settings.json, config.yaml, training.json,
        the training records' term frequencies (term_frequencies/) and, when calibrated,
        calibration.json. `er.load_model(path)` and
        `er dedup --model PATH` (or PATH/settings.json) read it back, calibration included."""
        import json

        folder = Path(path)
        if folder.suffix == ".json":
            raise InputError(f"{path}: save into a folder (settings.json and its companions "
                             "are written there), not a .json file")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / SETTINGS_FILE).write_text(
                json.dumps(self.settings, ensure_ascii=False, indent=2), "utf-8")
            (folder / CONFIG_FILE).write_text(self.config_text, "utf-8")
            (folder / META_FILE).write_text(
                json.dumps(self.meta, ensure_ascii=False, indent=2), "utf-8")
            write_tf_tables(self.tf_tables, folder / TF_DIR)
            cal = folder / CALIBRATION_FILE
            if self.calibration is not None:
                cal.write_text(json.dumps(self.calibration, indent=2), "utf-8")
            else:
                cal.unlink(missing_ok=True)  # an earlier save's calibrator is not this model's
        except OSError as exc:
            raise ResolutionError(f"cannot save the model to {folder}: {exc.strerror or exc}")
        return folder

    # ------------------------------------------------------------------ Splink

    @property
    def linker(self):
        """The fitted Splink `Linker` (its training history included)."""
        self._check_open()
        return self._session.fitted.linker

    def _check_open(self) -> None:
        if self._closed:
            raise ResolutionError("this trained model is closed; its Splink linker is gone "
                                  "(settings, metrics and save() still work)")

    def _scoring_linker(self):
        """A linker over all training records with the config's blocking rules, keeping
        the columns the waterfall chart and the dashboards show."""
        self._check_open()
        if self._scorer is None:
            from resolution.predict import count_candidate_pairs, make_linker

            con, config = self._session.con, self.config
            total = sum(n for _, n in count_candidate_pairs(con, config.model.blocking_rules))
            if total > config.model.max_comparisons:
                raise ResolutionError(
                    f"blocking would score up to {total:,} pairs on the training data (limit "
                    f"{config.model.max_comparisons:,.0f}); tighten model.blocking_rules")
            self._scorer = make_linker(con, self._session.fitted.table, {
                **self.settings, "retain_matching_columns": True,
                "retain_intermediate_calculation_columns": True})
        return self._scorer

    def predict(self):
        """Every candidate pair of the training records, scored (a Splink DataFrame)."""
        if self._predictions is None:
            self._predictions = self._scoring_linker().inference.predict()
        return self._predictions

    def match_weights_chart(self):
        return self.linker.visualisations.match_weights_chart()

    def m_u_parameters_chart(self):
        return self.linker.visualisations.m_u_parameters_chart()

    def parameter_estimate_comparisons_chart(self):
        """How the EM rounds' estimates of m compare (unsupervised training)."""
        return self.linker.visualisations.parameter_estimate_comparisons_chart()

    def match_weights_histogram(self):
        return self._scoring_linker().visualisations.match_weights_histogram(self.predict())

    def waterfall_chart(self, records: list[dict] | None = None, limit: int = 5):
        """How each comparison adds to the match weight of scored pairs: `records` from
        `predict().as_record_list()`, else the first `limit` scored pairs."""
        if records is None:
            records = self.predict().as_record_list(limit=limit)
        return self._scoring_linker().visualisations.waterfall_chart(records)

    def comparison_viewer(self, out_path: str | Path, **kwargs) -> Path:
        """Splink's comparison viewer dashboard (an HTML file) over the scored pairs."""
        self._scoring_linker().visualisations.comparison_viewer_dashboard(
            self.predict(), str(out_path), overwrite=True, **kwargs)
        return Path(out_path)

    def cluster_studio(self, out_path: str | Path, threshold: float | None = None,
                       **kwargs) -> Path:
        """Splink's cluster studio dashboard (an HTML file), clusters at `threshold`
        (default: the config's match threshold) found by Splink on the training records."""
        scorer = self._scoring_linker()
        clusters = scorer.clustering.cluster_pairwise_predictions_at_threshold(
            self.predict(), threshold if threshold is not None else self.config.thresholds.match)
        scorer.visualisations.cluster_studio_dashboard(
            self.predict(), clusters, str(out_path), overwrite=True, **kwargs)
        return Path(out_path)

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Close the DuckDB connection and remove the temporary files (idempotent)."""
        self._closed = True
        self._scorer = self._predictions = None
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def train(
    data: Data,
    config: ConfigLike = None,
    *,
    name: str | None = None,
    register: bool = False,
    experiment: str | None = None,
    labels_column: str | None = None,
    truth: Data | None = None,
    labels_pairs: Data | None = None,
    labels_from_store: str | Path | None = None,
    link_type: str = "dedupe_only",
    m_from: str | None = None,
    calibration: str | None = "isotonic",
    target_precision: float | None = None,
    charts: bool = True,
    tags: dict[str, str] | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    on_stage=None,
) -> TrainedModel:
    """Train a model on `data` (paths, a DataFrame or an Arrow table) with `config`.

    Labels (any one): `labels_column` (an entity column in the data), `truth` (record_id,
    entity_id: a file or a frame), `labels_pairs` (record_id_l, record_id_r, is_match) or
    `labels_from_store` (an entity store: every `er label add` answer and steward
    decision, as `er review export-labels` writes them; counted by source in
    `meta["labels"]`, contradicting labels among `warnings`); with labels, m is estimated
    from them (`m_from`: "labels"; for the store's labels "mixed", labels where enough
    reach a comparison and EM elsewhere; "em" ignores them for m), a threshold is
    recommended (maximum F1, or the lowest reaching `target_precision`) and the
    probability calibrated (`calibration`: isotonic, platt or None).

    `register=False` (the default) fits and evaluates only: no MLflow run (`register()` on
    the result logs it later). `register=True` logs a run to `experiment` (default
    `er-NAME`) and registers the model as `name`, like `er train`. `charts` renders
    Splink's charts (HTML, PNG) for that run.
    """
    if register and not name:
        raise InputError("register=True needs a name to register the model under")
    if sum(x is not None for x in (labels_column, truth, labels_pairs, labels_from_store)) > 1:
        from training.labels import ONE_WAY

        raise InputError(ONE_WAY)  # before any work
    cfg, text = _config_and_text(config)
    if calibration == "none":
        calibration = None
    with contextlib.ExitStack() as stack:
        files = stack.enter_context(input_files(data))
        truth_file = stack.enter_context(_label_file(truth))
        pairs_file = stack.enter_context(_label_file(labels_pairs))
        session = fitting.run(
            cfg, files, encoding=encoding, on_stage=on_stage, link_type=link_type,
            labels_column=labels_column, truth=truth_file, labels_pairs=pairs_file,
            labels_from_store=labels_from_store, m_from=m_from, calibration=calibration, target_precision=target_precision,
            charts=charts, sheet=sheet,
        )
        model = TrainedModel(session, text, name)
        if register:
            (on_stage or (lambda _s: None))("log to MLflow")
            try:
                model.register(experiment=experiment, tags=tags)
            except BaseException:
                model.close()
                raise
        return model


def evaluate(out: Any, truth: Data) -> Metrics:
    """Pairwise and B-cubed precision, recall and F1 of a finished job against the truth.

    `out`: the job's output folder, or the `JobSummary` `er.dedup` returned; `truth`: a
    record_id,entity_id file (CSV, Parquet) or a frame with those columns.
    """
    out_dir = getattr(out, "out_dir", out)
    with _label_file(truth) as truth_file:
        return evaluate_job(out_dir, truth_file)


__all__ = [
    "Metrics",
    "ModelVersionInfo",
    "TrainedModel",
    "evaluate",
    "list_models",
    "promote",
    "train",
]
