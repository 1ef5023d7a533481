"""``log_model``: one MLflow model that cannot run without its normalization."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from normlock.integrations.mlflow import composition, flavors
from normlock.integrations.mlflow.lockfile import (
    LOCK_ARTIFACT,
    METADATA_KEY,
    LockText,
    tag_run,
)
from normlock.integrations.mlflow.wrapper import MODEL_ARTIFACT

if TYPE_CHECKING:
    from mlflow.models import ModelSignature
    from mlflow.models.model import ModelInfo

    from normlock.lock import Lock

MODEL_CODE = Path(__file__).with_name("model_code.py")
"""The models-from-code file logged as every lock-wrapped model's ``python_model``."""


def signature_of(lock: Lock, example: pd.DataFrame, predicted: Any) -> ModelSignature:
    """The model's signature: the lock's columns with their types (features ``double``, or
    ``float`` where the example is float32; passthrough columns as the example has them),
    and the outputs the composed model gave on the example."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, Schema

    inferred = infer_signature(example, predicted)
    specs = []
    for spec in inferred.inputs.inputs:
        if spec.name in lock.feature_names:
            kind = "float" if example[spec.name].dtype == "float32" else "double"
            spec = ColSpec(kind, spec.name)
        specs.append(spec)
    return ModelSignature(inputs=Schema(specs), outputs=inferred.outputs)


def log_model(
    lock: Lock | str | os.PathLike[str],
    model: Any,
    *,
    name: str = "model",
    input_example: Any = None,
    model_columns: list[str] | None = None,
    model_options: dict[str, Any] | None = None,
    **log_options: Any,
) -> ModelInfo:
    """Log one MLflow model whose ``predict`` applies the lock, then ``model``, then the
    target's inverse when the lock has a target.

    The result is a ``pyfunc`` model logged as code (models-from-code, nothing pickled):
    the lock travels as its sealed file (checked against its seal and hash whenever the
    model loads), the wrapped model in its own flavor and a safe format. Its signature
    lists the lock's columns and types. The composed model is run on the example before
    anything is logged, so a model that does not fit the lock fails here, not in serving.
    The active run (if any) gets the tags and params of :func:`normlock.mlflow.log_lock`.

    Args:
        lock: a :class:`~normlock.lock.Lock` or a lock file (logged byte for byte).
        model: a scikit-learn estimator, a ``torch.nn.Module``, an ONNX model
            (``onnx.ModelProto`` or a ``.onnx`` file), a models-from-code ``.py`` file, or
            an MLflow model (URI or folder), fitted on the lock's outputs.
        name: the model's name in the run.
        input_example: a few raw rows (any frame, or a dict of columns); by default the
            training quantiles of each feature. Needed when the model reads passthrough
            columns (their type is not in the lock), and its float32 features make the
            signature ``float``.
        model_columns: the lock's output columns the model reads, in order (default:
            every column of the lock, features and passthrough, in fit order).
        model_options: passed to the wrapped model's flavor ``save_model`` (e.g.
            ``{"skops_trusted_types": [...]}``).
        **log_options: passed to ``mlflow.pyfunc.log_model`` (``registered_model_name``,
            ``pip_requirements``, ...).

    Returns:
        MLflow's ``ModelInfo``; load the model with ``mlflow.pyfunc.load_model(
        info.model_uri)`` and its lock with :func:`normlock.mlflow.load_lock`.

    Example:
        >>> import mlflow, normlock.mlflow
        >>> from sklearn.linear_model import Ridge
        >>> lock = nl.fit(train, spec, target="price")                    # doctest: +SKIP
        >>> ridge = Ridge().fit(lock.transform(train[features]),
        ...                     lock.transform_target(train["price"]))     # doctest: +SKIP
        >>> with mlflow.start_run():                                      # doctest: +SKIP
        ...     info = normlock.mlflow.log_model(lock, ridge, input_example=train[features][:5])
        >>> mlflow.pyfunc.load_model(info.model_uri).predict(served)      # doctest: +SKIP
    """
    import mlflow.pyfunc

    locked = LockText.of(lock)
    columns = composition.model_columns(locked.lock, model_columns)
    example = composition.example_frame(locked.lock, input_example, columns)
    normalized = locked.lock.transform(example, extra="keep")[columns]
    with tempfile.TemporaryDirectory(prefix="normlock-mlflow-") as temporary:
        folder = Path(temporary)
        inner = folder / "model"
        flavors.save(model, inner, normalized, model_options or {})
        predicted = composition.predict(
            locked.lock, mlflow.pyfunc.load_model(str(inner)), columns, example
        )
        record = {**locked.record(), "model_columns": columns}
        tags = {"normlock.fingerprint": locked.lock.fingerprint, "normlock.sha256": locked.sha256}
        extra_tags = log_options.pop("tags", None) or {}
        options = {"pip_requirements": flavors.requirements(inner), **log_options}
        info = mlflow.pyfunc.log_model(
            name=name,
            python_model=str(MODEL_CODE),
            artifacts={LOCK_ARTIFACT: str(locked.write(folder)), MODEL_ARTIFACT: str(inner)},
            signature=signature_of(locked.lock, example, predicted),
            input_example=example,
            model_config={"normlock_sha256": locked.sha256, "normlock_model_columns": columns},
            metadata={METADATA_KEY: record},
            tags={**tags, **extra_tags},
            **options,
        )
    if mlflow.active_run() is not None:
        tag_run(locked, info.model_uri)
    return info
