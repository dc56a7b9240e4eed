"""Models-from-code entry point for the pyfunc model (MLflow loads this file, not a pickle).

It imports only `resolution`, so a registered model loads where `training` is not installed."""

import mlflow

from resolution.model.pyfunc import ResolutionModel

mlflow.models.set_model(ResolutionModel())
