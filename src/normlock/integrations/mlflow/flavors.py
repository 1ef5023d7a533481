"""The wrapped model saved as an MLflow model of its own flavor, in safe formats only.

* scikit-learn estimators: the ``sklearn`` flavor in skops format (no pickle);
* ``torch.nn.Module``: the ``pytorch`` flavor as a ``torch.export`` program (pt2);
* ONNX models (a ``ModelProto`` or a ``.onnx`` file): the ``onnx`` flavor;
* any pyfunc: a models-from-code ``.py`` file, or an existing MLflow model (URI or folder).

A ``PythonModel`` instance is refused: MLflow would pickle it, and refuses to load
pickles by default.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from normlock.errors import InputError

KINDS = (
    "a scikit-learn estimator, a torch.nn.Module, an ONNX model (onnx.ModelProto or a .onnx "
    "file), a models-from-code .py file, or an MLflow model (URI or folder)"
)


def _is_instance(model: Any, module: str, path: str) -> bool:
    """``isinstance(model, module.path)`` without importing ``module`` when it is not loaded."""
    if module not in sys.modules:
        return False
    found: Any = sys.modules[module]
    for part in path.split("."):
        found = getattr(found, part, None)
        if found is None:
            return False
    return isinstance(model, found)


def _torch(model: Any, path: Path, example: pd.DataFrame, options: dict[str, Any]) -> None:
    import mlflow.pytorch
    import torch

    first = next(iter(model.parameters()), None)
    dtype = torch.float32 if first is None else first.dtype
    matrix = torch.from_numpy(example.to_numpy(np.float64)).to(dtype).numpy()
    options = {
        "serialization_format": "pt2",
        "pip_requirements": mlflow.pytorch.get_default_pip_requirements(),
        **options,
    }
    mlflow.pytorch.save_model(model, str(path), input_example=matrix, **options)


def _sklearn(model: Any, path: Path, example: pd.DataFrame, options: dict[str, Any]) -> None:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    named = hasattr(model, "feature_names_in_")
    inputs: Any = example if named else example.to_numpy()
    signature = infer_signature(inputs, model.predict(inputs))
    options = {
        "serialization_format": "skops",
        "signature": signature,
        "pip_requirements": mlflow.sklearn.get_default_pip_requirements(),
        **options,
    }
    mlflow.sklearn.save_model(model, str(path), **options)


def _onnx(model: Any, path: Path, options: dict[str, Any]) -> None:
    import mlflow.onnx
    import onnx

    proto = model if _is_instance(model, "onnx", "ModelProto") else onnx.load(str(model))
    options = {"pip_requirements": mlflow.onnx.get_default_pip_requirements(), **options}
    mlflow.onnx.save_model(proto, str(path), **options)


def _existing(uri: str, path: Path) -> None:
    import shutil

    from mlflow.artifacts import download_artifacts

    with tempfile.TemporaryDirectory(prefix="normlock-mlflow-") as temporary:
        found = Path(download_artifacts(artifact_uri=uri, dst_path=temporary))
        if not (found / "MLmodel").is_file():
            raise InputError(f"{uri} is no MLflow model (it has no MLmodel file); give {KINDS}")
        shutil.copytree(found, path)


def save(model: Any, path: Path, example: pd.DataFrame, options: dict[str, Any]) -> None:
    """Save ``model`` as an MLflow model in the new folder ``path``.

    Args:
        model: see the module docs for what it may be.
        path: where to save it (must not exist).
        example: normalized rows of the columns the model reads (to trace a torch model
            and to infer a scikit-learn model's signature).
        options: passed to the flavor's ``save_model``.

    Raises:
        InputError: ``model`` is of no kind listed, or a ``PythonModel`` instance.
    """
    import mlflow.pyfunc

    if _is_instance(model, "torch", "nn.Module"):
        _torch(model, path, example, options)
    elif _is_instance(model, "onnx", "ModelProto") or str(model).endswith(".onnx"):
        _onnx(model, path, options)
    elif _is_instance(model, "sklearn", "base.BaseEstimator"):
        _sklearn(model, path, example, options)
    elif isinstance(model, mlflow.pyfunc.PythonModel):
        raise InputError(
            "a PythonModel instance would be pickled, and MLflow refuses to load pickles by "
            "default: write it as a models-from-code file (ending in mlflow.models.set_model("
            "YourModel())) and pass that file's path"
        )
    elif isinstance(model, str | os.PathLike) and str(model).endswith(".py"):
        mlflow.pyfunc.save_model(str(path), python_model=str(model), **options)
    elif isinstance(model, str | os.PathLike):
        _existing(str(model), path)
    else:
        raise InputError(f"cannot log a model of type {type(model).__name__}: give {KINDS}")


def requirements(path: Path) -> list[str]:
    """The pip requirements of a lock-wrapped model: normlock, MLflow, and the wrapped
    model's own (from its ``requirements.txt``)."""
    import mlflow

    import normlock

    listed = path / "requirements.txt"
    own = listed.read_text(encoding="utf-8").splitlines() if listed.is_file() else []
    found = [f"normlock=={normlock.__version__}", f"mlflow=={mlflow.__version__}"]
    for line in own:
        line = line.strip()
        if line and not line.startswith(("#", "mlflow")) and line not in found:
            found.append(line)
    return found
