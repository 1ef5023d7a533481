"""The pyfunc model that applies the lock, the wrapped model and the target's inverse."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from mlflow.pyfunc import PythonModel

from normlock.errors import NotFittedError
from normlock.integrations.mlflow import composition
from normlock.integrations.mlflow.lockfile import LOCK_ARTIFACT, read_verified

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel, PythonModelContext

    from normlock.lock import Lock

MODEL_ARTIFACT = "normlock_model"
"""The pyfunc artifact key of the wrapped model (an MLflow model folder)."""


class LockedModel(PythonModel):
    """A model whose ``predict`` normalizes its input with a lock first.

    Built by MLflow from :mod:`normlock.integrations.mlflow.model_code` when a model logged
    by :func:`normlock.mlflow.log_model` is loaded; the lock's file is checked against its
    seal and the hash the model was logged with, so a changed artifact never serves.
    Reach it with ``mlflow.pyfunc.load_model(uri).unwrap_python_model()``.
    """

    def __init__(self) -> None:
        self._lock: Lock | None = None
        self._model: PyFuncModel | None = None
        self._columns: list[str] = []

    def load_context(self, context: PythonModelContext) -> None:
        """Read the lock (verified) and load the wrapped model."""
        import mlflow.pyfunc

        config = context.model_config or {}
        path = Path(context.artifacts[LOCK_ARTIFACT])
        self._lock = read_verified(path, sha256=config.get("normlock_sha256"), where=str(path))
        self._columns = list(config.get("normlock_model_columns") or self._lock.columns)
        self._model = mlflow.pyfunc.load_model(context.artifacts[MODEL_ARTIFACT])

    @property
    def lock(self) -> Lock:
        """The lock applied before the model."""
        if self._lock is None:
            raise NotFittedError("the model is not loaded yet: load it with mlflow.pyfunc")
        return self._lock

    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Predictions for raw rows: lock, then model, then the target's inverse."""
        if self._model is None:
            raise NotFittedError("the model is not loaded yet: load it with mlflow.pyfunc")
        return composition.predict(self.lock, self._model, self._columns, model_input)
