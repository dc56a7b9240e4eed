"""Training, evaluation and MLflow tracking for resolution models."""
