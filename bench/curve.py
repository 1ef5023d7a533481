"""Fit and transform against their anchors along a curve of sizes, rows x 32 float columns.

Every case is a pair of builders, normlock's and its anchor's: each takes the data in one
container and returns the call to time (fitting whatever the call needs beforehand). The
data is generated once per size (seeded) and converted to one container at a time, so that
at 10M rows only the float64 matrix and one container are alive.
"""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from common import Row, Target, faster_by, median_time, row, share_of_throughput, within

import normlock as nl

COLUMNS = 32
NAMES = [f"x{i}" for i in range(COLUMNS)]
# above this many rows: at most 3 samples, and no scikit-learn RobustScaler (it takes minutes)
LARGE = 1_000_000
SAVED = Path(tempfile.gettempdir()) / "normlock-bench.normlock.json"

Build = Callable[["Prepared"], Callable[[], object]]


@dataclass(frozen=True)
class Case:
    """normlock's ``ours`` against ``anchor`` on one container.

    ``target`` gives the row's target at a number of rows (None: informational);
    ``anchor_rows`` is the largest size the anchor runs at (None: every size), ``panel``
    the plot panel ("" keeps the case off the plot).
    """

    case: str
    container: str
    ours: Build
    anchor: str
    theirs: Build
    target: Callable[[int], Target | None]
    panel: str
    anchor_rows: int | None = None


# ---- containers -------------------------------------------------------------------------


def pandas_frame(X: np.ndarray) -> Any:
    import pandas as pd

    return pd.DataFrame(X, columns=NAMES)


def polars_frame(X: np.ndarray) -> Any:
    import polars as pl

    return pl.from_numpy(X, schema=NAMES, orient="row")


def arrow_table(X: np.ndarray) -> Any:
    import pyarrow as pa

    return pa.table({name: X[:, i] for i, name in enumerate(NAMES)})


CONTAINERS: dict[str, Callable[[np.ndarray], Any]] = {
    "numpy float32": lambda X: X.astype(np.float32),
    "numpy float64": lambda X: X,
    "pandas float64": pandas_frame,
    "polars float64": polars_frame,
    "arrow float64": arrow_table,
}


# ---- builders ---------------------------------------------------------------------------


class Prepared:
    """One container's data and the standard lock fitted on it (on first use), which the
    transform cases share."""

    def __init__(self, data: Any) -> None:
        self.data = data

    @cached_property
    def lock(self) -> nl.Lock:
        return nl.fit(self.data, default="standard")

    def params(self) -> list[dict[str, Any]]:
        """Each column's fitted standard parameters (its ``mean`` and ``std``)."""
        return [self.lock.feature(name).steps[0].params for name in NAMES]


def nl_fit(method: str) -> Build:
    return lambda p: lambda: nl.fit(p.data, default=method)


def nl_fit_save(method: str) -> Build:
    return lambda p: lambda: nl.fit(p.data, default=method).save(SAVED)


def nl_transform(p: Prepared) -> Callable[[], object]:
    return lambda: p.lock.transform(p.data)


def nl_transform_out(p: Prepared) -> Callable[[], object]:
    out = np.empty_like(p.data)
    return lambda: p.lock.transform(p.data, out=out)


def sk_fit(scaler: str) -> Build:
    import sklearn.preprocessing

    kind = getattr(sklearn.preprocessing, scaler)
    return lambda p: lambda: kind().fit(p.data)


def sk_transform(p: Prepared) -> Callable[[], object]:
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    if not isinstance(p.data, np.ndarray):
        scaler.set_output(transform="pandas")
    scaler.fit(p.data)
    return lambda: scaler.transform(p.data)


def numpy_sum(p: Prepared) -> Callable[[], object]:
    return lambda: p.data.sum(axis=0)


def numpy_copyto(p: Prepared) -> Callable[[], object]:
    out = np.empty_like(p.data)
    return lambda: np.copyto(out, p.data)


def polars_fit(p: Prepared) -> Callable[[], object]:
    import polars as pl

    return lambda: (p.data.select(pl.all().mean()), p.data.select(pl.all().std(ddof=0)))


def polars_transform(p: Prepared) -> Callable[[], object]:
    import polars as pl

    exprs = [
        ((pl.col(c) - f["mean"]) / f["std"]).alias(c)
        for c, f in zip(NAMES, p.params(), strict=True)
    ]
    return lambda: p.data.select(exprs)


def arrow_fit(p: Prepared) -> Callable[[], object]:
    import pyarrow.compute as pc

    return lambda: [(pc.mean(p.data[c]), pc.variance(p.data[c], ddof=0)) for c in NAMES]


def arrow_transform(p: Prepared) -> Callable[[], object]:
    import pyarrow as pa
    import pyarrow.compute as pc

    pairs = list(zip(NAMES, p.params(), strict=True))
    return lambda: pa.table(
        {c: pc.divide(pc.subtract(p.data[c], f["mean"]), f["std"]) for c, f in pairs}
    )


# ---- targets ----------------------------------------------------------------------------


def none(rows: int) -> Target | None:
    return None


def fit_target(large: float) -> Callable[[int], Target | None]:
    """No slower below 100k rows, >= 3x below 1M, ``large`` x from 1M rows on."""
    return lambda rows: faster_by(1 if rows < 100_000 else 3 if rows < 1_000_000 else large)


def between(low: int, high: int, target: Target) -> Callable[[int], Target | None]:
    return lambda rows: target if low <= rows <= high else None


def from_rows(low: int, target: Target) -> Callable[[int], Target | None]:
    return lambda rows: target if rows >= low else None


# ---- the cases --------------------------------------------------------------------------

SIMPLE_FITS = (
    ("standard", "StandardScaler", 10.0),
    ("minmax", "MinMaxScaler", 3.0),
    ("maxabs", "MaxAbsScaler", 3.0),
)
FRAME_FITS = "fit, data frames"


def numpy_fits(container: str) -> Iterator[Case]:
    """Every method against its scikit-learn scaler's fit."""
    panel = f"fit, {container}"
    for method, scaler, large in SIMPLE_FITS:
        yield Case(
            f"fit {method}",
            container,
            nl_fit(method),
            f"sklearn {scaler}.fit",
            sk_fit(scaler),
            fit_target(large),
            panel,
        )
    yield Case(
        "fit robust",
        container,
        nl_fit("robust"),
        "sklearn RobustScaler.fit",
        sk_fit("RobustScaler"),
        between(100_000, 1_000_000, faster_by(3)),
        panel,
        anchor_rows=LARGE,
    )


def float32_extras() -> Iterator[Case]:
    """The float32 fit saved, and fit and transform against memory-bound numpy calls."""
    container = "numpy float32"
    yield Case(
        "fit + save standard",
        container,
        nl_fit_save("standard"),
        "sklearn StandardScaler.fit",
        sk_fit("StandardScaler"),
        none,
        f"fit, {container}",
    )
    half = from_rows(LARGE, share_of_throughput(0.5))
    yield Case(
        "fit standard", container, nl_fit("standard"), "numpy.sum(axis=0)", numpy_sum, half, ""
    )
    yield Case(
        "transform standard, out=",
        container,
        nl_transform_out,
        "numpy.copyto",
        numpy_copyto,
        half,
        "",
    )


def frame_fits() -> Iterator[Case]:
    """pandas against scikit-learn; Polars and pyarrow against their own mean and std."""
    for method, scaler, large in SIMPLE_FITS[:2]:
        yield Case(
            f"fit {method}",
            "pandas float64",
            nl_fit(method),
            f"sklearn {scaler}.fit",
            sk_fit(scaler),
            fit_target(large),
            FRAME_FITS,
        )
    for container, fit, library in (
        ("polars float64", polars_fit, "polars"),
        ("arrow float64", arrow_fit, "pyarrow.compute"),
    ):
        anchor = f"{library} mean + std(ddof=0), not correctly rounded"
        yield Case("fit standard", container, nl_fit("standard"), anchor, fit, none, FRAME_FITS)


def transforms() -> Iterator[Case]:
    """Standardization in every container, against the anchor a user of it would reach for."""
    with_params = "(x - mean) / std with the lock's mean, std"
    for container, anchor, theirs, target in (
        ("numpy float32", "sklearn StandardScaler.transform", sk_transform, none),
        ("numpy float64", "sklearn StandardScaler.transform", sk_transform, none),
        (
            "pandas float64",
            'sklearn StandardScaler(set_output="pandas").transform',
            sk_transform,
            between(100_000, 1_000_000, faster_by(2)),
        ),
        (
            "polars float64",
            f"polars {with_params}",
            polars_transform,
            between(1_000_000, 1_000_000, within(1.25)),
        ),
        ("arrow float64", f"pyarrow.compute {with_params}", arrow_transform, none),
    ):
        yield Case(
            "transform standard",
            container,
            nl_transform,
            anchor,
            theirs,
            target,
            "transform standard",
        )


CASES: tuple[Case, ...] = (
    *numpy_fits("numpy float32"),
    *float32_extras(),
    *numpy_fits("numpy float64"),
    *frame_fits(),
    *transforms(),
)


# ---- running ----------------------------------------------------------------------------


def generate(rows: int) -> np.ndarray:
    """The size's data, seeded by its number of rows: float64 normal(3, 2)."""
    return np.random.default_rng(rows).normal(3.0, 2.0, size=(rows, COLUMNS))


def run_curve(sizes: list[int], repeat: int, only: str = "") -> list[Row]:
    """The cases whose name and container contain ``only``, at every size; rows in the order
    of :data:`CASES`, each case's sizes together."""
    cases = [c for c in CASES if only.lower() in f"{c.case} {c.container}".lower()]
    found: list[tuple[int, int, Row]] = []
    for size in sizes:
        samples = repeat if size <= LARGE else min(repeat, 3)
        X = generate(size)
        for container, build in CONTAINERS.items():
            chosen = [c for c in cases if c.container == container]
            if chosen:
                rows = run_container(chosen, Prepared(build(X)), size, samples)
                found += [(CASES.index(c), size, r) for c, r in zip(chosen, rows, strict=True)]
                gc.collect()  # this container's data goes before the next is built
        del X
        gc.collect()
    SAVED.unlink(missing_ok=True)
    return [r for *_, r in sorted(found, key=lambda item: item[:2])]


def run_container(cases: list[Case], data: Prepared, size: int, samples: int) -> list[Row]:
    """The cases of one container; a call that two cases share is timed once."""
    timed: dict[tuple[str, str], float] = {}

    def seconds(key: tuple[str, str], build: Build) -> float:
        if key not in timed:
            timed[key] = median_time(build(data), samples)
        return timed[key]

    rows = []
    for case in cases:
        ours = seconds(("normlock", case.case), case.ours)
        notes = []
        if case.anchor_rows is not None and size > case.anchor_rows:
            theirs = None
            notes.append(f"anchor not run above {case.anchor_rows:,} rows: it takes minutes")
        else:
            theirs = seconds(("anchor", case.anchor), case.theirs)
        if case.case == "fit robust":
            notes.append(robust_rank_error(data.data))
        note = "; ".join(filter(None, notes))
        target, label = case.target(size), (case.case, case.container, size)
        rows.append(row(*label, ours, case.anchor, theirs, target, note, case.panel))
    return rows


def robust_rank_error(data: np.ndarray) -> str:
    """Where the robust fit's median comes from a sample: its rank error and the bound."""
    params = nl.fit(data[:, :1], default="robust").feature("x0").steps[0].params
    bound = params.get("rank_error", 0.0)
    if not bound:
        return ""
    ordered = np.sort(data[:, 0].astype(np.float64))
    low = np.searchsorted(ordered, params["median"], side="left") / ordered.size
    high = np.searchsorted(ordered, params["median"], side="right") / ordered.size
    error = 0.0 if low <= 0.5 <= high else min(abs(low - 0.5), abs(high - 0.5))
    return f"median rank error {error:.4f} (bound {bound:.4f})"
