"""``import normlock`` stays light: heavy libraries load only where they are used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = [
    "torch",
    "onnx",
    "onnxruntime",
    "sqlalchemy",
    "matplotlib",
    "pyspark",
    "dask",
    "pandas",
    "polars",
    "pyarrow",
    "sklearn",
    "scipy",
    "typer",
    "rich",
    "yaml",
    "mlflow",
    "starlette",
    "uvicorn",
    "jinja2",
]


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def test_import_normlock_loads_no_heavy_library() -> None:
    assert not loaded_after("import normlock") & set(HEAVY)


def test_fit_and_transform_on_numpy_load_no_frame_library() -> None:
    modules = loaded_after(
        "import numpy as np, normlock as nl; nl.fit({'a': np.arange(5.0)}).transform({'a': 1.0})"
    )
    assert not modules & {
        "torch",
        "onnx",
        "sqlalchemy",
        "pandas",
        "polars",
        "pyarrow",
        "sklearn",
        "typer",
    }


def test_each_engine_loads_only_when_used_and_only_itself() -> None:
    assert not loaded_after("import normlock.dask") & {"pyspark"}
    assert not loaded_after("import normlock.spark") & {"dask", "distributed"}
    assert "dask" in loaded_after("import normlock as nl; nl.dask.fit")
