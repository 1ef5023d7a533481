"""Lock, then model, then the target's inverse: what a lock-wrapped MLflow model computes.

The same functions run when :func:`normlock.mlflow.log_model` checks the composed model on
its example before logging it and when the logged model serves, so the two cannot differ.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from normlock.errors import ColumnNotFoundError, InputError

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel

    from normlock.lock import Lock

EXAMPLE_PROBABILITIES = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Training quantiles that make up an input example when none is given."""


def model_columns(lock: Lock, chosen: list[str] | None) -> list[str]:
    """The lock's output columns the model reads, in order (default: every column the lock
    knows, features and passthrough, in fit order).

    Raises:
        ColumnNotFoundError: a chosen column is not one of the lock's.
    """
    if chosen is None:
        return list(lock.columns)
    names = [str(c) for c in chosen]
    unknown = [c for c in names if c not in lock.columns]
    if unknown:
        raise ColumnNotFoundError.from_missing(unknown, lock.columns, where="the lock's columns")
    return names


def raw_columns(lock: Lock, columns: list[str]) -> list[str]:
    """The input columns a request must carry: every feature, and the passthrough columns
    the model reads, in the lock's column order."""
    needed = set(lock.feature_names) | set(columns)
    return [c for c in lock.columns if c in needed]


def example_frame(lock: Lock, given: Any, columns: list[str]) -> pd.DataFrame:
    """Raw input rows for the model's example and signature: ``given`` (any frame or a dict
    of columns), else training quantiles of each feature.

    Raises:
        InputError: the model reads passthrough columns and no example gives their type.
    """
    needed = raw_columns(lock, columns)
    if given is not None:
        frame = _pandas(given)
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ColumnNotFoundError.from_missing(missing, frame.columns, where="input_example")
        return frame[needed].reset_index(drop=True)
    untyped = [c for c in needed if c in lock.passthrough]
    if untyped:
        raise InputError(
            f"the model reads the passthrough column(s) {untyped}, whose type the lock does not "
            "record: give input_example= (a few raw rows), or model_columns= without them"
        )
    return pd.DataFrame({name: _quantiles(lock, name) for name in needed})


def _pandas(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):  # polars, Arrow
        return data.to_pandas()
    if isinstance(data, dict):
        return pd.DataFrame({k: np.atleast_1d(v) for k, v in data.items()})
    raise InputError(
        f"input_example must be a DataFrame (pandas, polars, Arrow) or a dict of columns, "
        f"got {type(data).__name__}"
    )


def _quantiles(lock: Lock, name: str) -> np.ndarray:
    grid = lock.feature(name).reference["quantiles"]
    values = np.interp(EXAMPLE_PROBABILITIES, grid["probabilities"], grid["values"])
    return np.array([v if math.isfinite(v) else 0.0 for v in values])


def _feed(model: PyFuncModel, frame: pd.DataFrame) -> Any:
    """``frame`` as the wrapped model's signature asks: one matrix of its dtype, a dict of
    named tensors, or the frame itself."""
    schema = model.metadata.get_input_schema()
    if schema is None or not schema.is_tensor_spec():
        return frame
    specs = schema.inputs
    if len(specs) == 1:
        return frame.to_numpy(dtype=specs[0].type)
    return {spec.name: frame[spec.name].to_numpy(dtype=spec.type) for spec in specs}


def _in_target_units(lock: Lock, predicted: Any, index: pd.Index) -> Any:
    """The model's normalized predictions mapped back through the lock's target."""
    target = lock.target
    if target is None:
        return predicted
    if isinstance(predicted, dict) and len(predicted) == 1:
        predicted = next(iter(predicted.values()))
    values = np.asarray(
        predicted.to_numpy() if isinstance(predicted, pd.DataFrame | pd.Series) else predicted
    )
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or values.shape[0] != len(index):
        raise InputError(
            f"the model returned predictions of shape {values.shape} for {len(index)} rows; the "
            f"lock's target {target.name!r} needs one value per row to map back to its units"
        )
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    return pd.Series(lock.inverse_transform_target(values), index=index, name=target.name)


def predict(lock: Lock, model: PyFuncModel, columns: list[str], frame: pd.DataFrame) -> Any:
    """Normalize ``frame`` with ``lock``, run ``model`` on the columns it reads, and map its
    predictions back to target units when the lock has a target.

    Raises:
        ColumnNotFoundError: ``frame`` lacks a column the lock or the model needs.
    """
    missing = [c for c in raw_columns(lock, columns) if c not in frame.columns]
    if missing:
        raise ColumnNotFoundError.from_missing(missing, frame.columns, where="the request")
    normalized = lock.transform(frame, extra="keep")
    predicted = model.predict(_feed(model, normalized[columns]))
    return _in_target_units(lock, predicted, frame.index)
