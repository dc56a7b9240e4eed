"""Models-from-code entry point for the pyfunc model (MLflow loads this file, not a pickle)."""

import mlflow

from training.pyfunc import ResolutionModel

mlflow.models.set_model(ResolutionModel())
