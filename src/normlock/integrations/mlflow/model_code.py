"""The code MLflow runs to build a lock-wrapped model (models-from-code: never pickled).

:func:`normlock.mlflow.log_model` logs this file as the model's ``python_model``; MLflow
copies it into the model and executes it when the model is loaded.
"""

import mlflow

from normlock.integrations.mlflow.wrapper import LockedModel

mlflow.models.set_model(LockedModel())
