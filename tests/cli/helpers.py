"""Shared helpers of the CLI tests: run the real command line in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from normlock.cli import app

runner = CliRunner()


def run(*args: str):
    """Invoke ``normlock ARGS`` and return the click Result."""
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def write_training(directory: Path, rows: int = 2000, seed: int = 0) -> Path:
    """A Parquet training file with numeric and string columns."""
    rng = np.random.default_rng(seed)
    table = pa.table(
        {
            "age": rng.normal(40, 10, rows),
            "income": rng.lognormal(10, 1, rows),
            "city": np.array(["paris", "oslo"])[rng.integers(0, 2, rows)],
        }
    )
    path = directory / "train.parquet"
    pq.write_table(table, path)
    return path


def write_spec(directory: Path) -> Path:
    """A YAML spec for :func:`write_training`'s columns."""
    path = directory / "spec.yaml"
    path.write_text("income: [log1p, standard]\ncity: passthrough\n")
    return path


def write_parts(directory: Path, parts: int = 3) -> str:
    """:func:`write_training`'s rows split over ``parts`` Parquet files; their glob."""
    whole = pq.read_table(write_training(directory))
    folder = directory / "parts"
    folder.mkdir()
    size = -(-whole.num_rows // parts)
    for i in range(parts):
        pq.write_table(whole.slice(i * size, size), folder / f"part-{i}.parquet")
    return str(folder / "*.parquet")


def use_engine(request: Any, engine: str) -> None:
    """Start the suite's local Spark for ``spark`` (the command uses the active session)."""
    if engine == "spark":
        request.getfixturevalue("spark")
