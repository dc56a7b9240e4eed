"""The MLflow pyfunc flavour of a resolution model: what `mlflow.pyfunc.load_model` runs.

`mlflow.pyfunc.load_model("models:/NAME/VERSION").predict(df)` takes a DataFrame of
customer records (canonical columns, or the columns the model's config maps) and returns
one row per accepted record: `record_id`, `entity_id`, `membership_confidence`,
`cluster_confidence` (see the README's "predict contract"). Records whose id is empty or
repeated are not resolved (as in a batch job they would go to `rejected`).

Params (optional): `threshold` (the pair probability that links) or
`use_recommended_threshold` (the one training recommended from labels); without either,
the config's `thresholds.match`, as `er dedup` does.

It scores exactly as a batch job does (`resolution.pipeline.resolve_frame` →
`resolve_records`): the model's term-frequency tables from its training records, its
calibrator once, the same threshold choice. It needs only `resolution`: the artifacts
(settings, config, training.json, calibration, term frequencies) are read with
`resolution.model.loading`, so the model loads where `training` is not installed.
Logging it is training's work (`training.pyfunc`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlflow.pyfunc import PythonModel


class ResolutionModel(PythonModel):
    def load_context(self, context) -> None:
        import yaml

        from resolution.config import config_from_dict
        from resolution.model.loading import resolve_model

        # every artifact lies in one folder, as in a saved model: settings.json and its
        # companions (resolution.model.loading reads them all)
        folder = Path(context.artifacts["settings"]).parent
        self.model = resolve_model(str(folder))
        self.config = config_from_dict(
            yaml.safe_load(self.model.config_yaml or "{}"), "model config")

    def predict(self, context, model_input, params: dict[str, Any] | None = None):
        import pandas as pd

        from resolution.pipeline import resolve_frame

        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        params = params or {}
        return resolve_frame(
            model_input, self.config, self.model,
            threshold=params.get("threshold"),
            use_recommended_threshold=bool(params.get("use_recommended_threshold")),
        )
