"""The transform of each container against its native anchor, measured in the same run.

Usage:
    python bench/transform_frames.py [--rows 10000 100000 1000000] [--repeat 5]

For each row count, 32 float columns (fitted with ``standard``) go through
``lock.transform`` and through the anchor that gives the same container back:
scikit-learn's ``StandardScaler`` (``set_output(transform="pandas")`` for pandas frames),
pandas arithmetic for nullable and Arrow-backed frames, the same ``(x - mean) / std``
expressions in Polars, and ``pyarrow.compute`` column by column for Arrow. Cases with
nulls have 1% of their values missing. Prints medians (ms) and the anchor's time over
normlock's (above 1: normlock is faster), against the targets set for pandas, Polars and
Arrow frames without nulls.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.preprocessing import StandardScaler

import normlock as nl

COLUMNS = 32
Call = Callable[[], object]


@dataclass(frozen=True)
class Case:
    """One container: how to build normlock's call and its anchor's on ``rows`` rows."""

    container: str
    anchor: str
    target: float | None  # the anchor's time over normlock's to reach (None: none set)
    build: Callable[[], tuple[Call, Call]]


@dataclass(frozen=True)
class Result:
    """Medians of one case."""

    rows: int
    container: str
    normlock_ms: float
    anchor: str
    anchor_ms: float
    target: float | None

    @property
    def ratio(self) -> float:
        """The anchor's time over normlock's."""
        return self.anchor_ms / self.normlock_ms


def data(rows: int, dtype: type = np.float64, seed: int = 0) -> np.ndarray:
    """``rows`` x 32 normal values (mean 3, std 2)."""
    return np.random.default_rng(seed).normal(3.0, 2.0, (rows, COLUMNS)).astype(dtype)


def cases(rows: int) -> list[Case]:
    """Every container's case on ``rows`` rows (data is built by each case's ``build``)."""
    names = [f"c{j}" for j in range(COLUMNS)]
    lock = nl.fit(data(10_000, seed=1), names=names)
    means = np.array([f.affine()[0] for f in lock.features])  # type: ignore[index]
    stds = np.array([f.affine()[1] for f in lock.features])  # type: ignore[index]

    def table(dtype: type, nulls: bool) -> pa.Table:
        values = data(rows, dtype)
        missing = np.random.default_rng(2).random(values.shape) < 0.01 if nulls else None
        return pa.table(
            {
                n: pa.array(values[:, j], mask=None if missing is None else missing[:, j])
                for j, n in enumerate(names)
            }
        )

    def numpy_case(dtype: type) -> tuple[Call, Call]:
        x = data(rows, dtype)
        scaler = StandardScaler().fit(data(10_000, dtype, seed=1))
        return lambda: lock.transform(x), lambda: scaler.transform(x)

    def pandas_case(dtype: type) -> tuple[Call, Call]:
        frame = pd.DataFrame(data(rows, dtype), columns=names)
        scaler = StandardScaler().set_output(transform="pandas")
        scaler.fit(pd.DataFrame(data(10_000, dtype, seed=1), columns=names))
        return lambda: lock.transform(frame), lambda: scaler.transform(frame)

    def pandas_extension_case(types: Callable[[pa.DataType], Any]) -> tuple[Call, Call]:
        frame = table(np.float64, nulls=True).to_pandas(types_mapper=types)
        center, scale = pd.Series(means, index=names), pd.Series(stds, index=names)
        return lambda: lock.transform(frame), lambda: (frame - center) / scale

    def polars_case(dtype: type, nulls: bool) -> tuple[Call, Call]:
        frame = pl.from_arrow(table(dtype, nulls))
        expressions = [(pl.col(n) - m) / s for n, m, s in zip(names, means, stds, strict=True)]
        return lambda: lock.transform(frame), lambda: frame.select(expressions)  # type: ignore[union-attr]

    def arrow_case(nulls: bool) -> tuple[Call, Call]:
        columns = table(np.float64, nulls)

        def anchor() -> pa.Table:
            return pa.table(
                {
                    n: pc.divide(pc.subtract(columns.column(n), m), s)
                    for n, m, s in zip(names, means, stds, strict=True)
                }
            )

        return lambda: lock.transform(columns), anchor

    sklearn = "sklearn StandardScaler"
    pandas_target = 1.0 if rows < 100_000 else 2.0
    return [
        Case("numpy float64", sklearn, None, lambda: numpy_case(np.float64)),
        Case("numpy float32", sklearn, None, lambda: numpy_case(np.float32)),
        Case(
            "pandas float64",
            sklearn + " (pandas out)",
            pandas_target,
            lambda: pandas_case(np.float64),
        ),
        Case(
            "pandas float32",
            sklearn + " (pandas out)",
            pandas_target,
            lambda: pandas_case(np.float32),
        ),
        Case(
            "pandas Float64, 1% NA",
            "pandas (df - mean) / std",
            None,
            lambda: pandas_extension_case({pa.float64(): pd.Float64Dtype()}.get),
        ),
        Case(
            "pandas double[pyarrow], 1% null",
            "pandas (df - mean) / std",
            None,
            lambda: pandas_extension_case(pd.ArrowDtype),
        ),
        Case("polars f64", "polars select", 0.8, lambda: polars_case(np.float64, nulls=False)),
        Case("polars f32", "polars select", 0.8, lambda: polars_case(np.float32, nulls=False)),
        Case(
            "polars f64, 1% null",
            "polars select",
            None,
            lambda: polars_case(np.float64, nulls=True),
        ),
        Case("arrow f64", "pyarrow.compute", 1.0, lambda: arrow_case(nulls=False)),
        Case("arrow f64, 1% null", "pyarrow.compute", None, lambda: arrow_case(nulls=True)),
    ]


def medians(ours: Call, theirs: Call, repeat: int) -> tuple[float, float]:
    """Median seconds of each call, timed alternately after one warm-up call of each."""
    ours()
    theirs()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for function, found in ((ours, times[0]), (theirs, times[1])):
            start = time.perf_counter()
            function()
            found.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def run(rows: int, repeat: int) -> list[Result]:
    """Every case on ``rows`` rows."""
    found = []
    for case in cases(rows):
        ours, theirs = medians(*case.build(), repeat)
        found.append(
            Result(rows, case.container, ours * 1e3, case.anchor, theirs * 1e3, case.target)
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    print(
        f"{'rows':>9}  {'container':<34}{'normlock ms':>12}  {'anchor':<36}"
        f"{'anchor ms':>10}{'ratio':>8}  target"
    )
    for rows in options.rows:
        for r in run(rows, options.repeat):
            verdict = (
                ""
                if r.target is None
                else f">= {r.target:g} " + ("met" if r.ratio >= r.target else "MISSED")
            )
            line = (
                f"{r.rows:>9}  {r.container:<34}{r.normlock_ms:>12.2f}  {r.anchor:<36}"
                f"{r.anchor_ms:>10.2f}{r.ratio:>8.2f}  {verdict}"
            )
            print(line.rstrip())


if __name__ == "__main__":
    main()
