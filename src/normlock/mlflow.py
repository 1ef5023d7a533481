"""The lock inside MLflow (``pip install 'normlock[mlflow]'``).

* :func:`log_lock` logs a lock's sealed file to a run, with its fingerprint and feature
  names as the run's tags and params;
* :func:`log_model` logs one pyfunc model that applies the lock, then the model
  (scikit-learn, PyTorch, ONNX or any pyfunc), then the target's inverse — logged as code,
  never pickled, with the lock as its sealed file and the lock's columns in its signature;
* :func:`load_lock` reads the lock back from a model or run, its seal checked.

See :mod:`normlock.integrations.mlflow` for how it is built.
"""

from normlock.integrations.mlflow.lockfile import load_lock, log_lock
from normlock.integrations.mlflow.models import log_model

__all__ = ["load_lock", "log_lock", "log_model"]
