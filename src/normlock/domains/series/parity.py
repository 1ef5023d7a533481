"""Verifying a panel's serving step against a series lock.

The probes are rows of a sample of the lock's series (up to :data:`SAMPLED`, spread over
the sorted ids) at ``center + scale * k`` for ``k`` in -3, -1, -0.5, 0, 0.5, 1, 3 in
every value column, and rows of a series the lock has not seen, at the global chain's
own probe points. The target gets them as a dict of columns (id, time, values; or a
pandas frame with ``feed="pandas"``) and returns the value columns normalized (a dict,
a frame, or a rows x values array). Mismatches are explained by the series mistakes:

* ``global``: the statistics of all series where the lock uses each series' own;
* ``other_series``: another series' statistics (the join on the id is off);
* ``unseen``: an unseen series given something else than the lock's policy (another
  series' statistics, NaN, the global statistics) while the seen ones match;
* ``ddof``: each series' std with the other ddof;
* ``per_window``: each series' rows standardized by their own statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from normlock.domains.parity import ProbeRun, domain_parity
from normlock.domains.series.lock import SeriesLock
from normlock.domains.series.methods import center_scale
from normlock.frames import is_container, read_columns
from normlock.probes import probes_of
from normlock.verify.cause import Cause
from normlock.verify.compare import candidate_residual
from normlock.verify.diagnose import EXPLAINED
from normlock.verify.parity import ParityReport, tolerance_of
from normlock.verify.rounding import ROUNDING_ULPS

SAMPLED = 8
STEPS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
_EPS64 = float(np.finfo(np.float64).eps)


def verify_series(
    lock: SeriesLock,
    target: Any,
    data: Any = None,
    *,
    exact: bool = False,
    ulps: int | None = None,
    feed: str = "dict",
) -> ParityReport:
    """Check ``target`` against ``lock`` on probe rows (and the rows of ``data``)."""
    sample = _sample(lock)
    runs = [
        _run(lock, f"{d} probe rows", _probe_rows(lock, sample, d), feed)
        for d in ("float64", "float32")
    ]
    if data is not None:
        frame = data if is_container(data) else next(iter(lock.served_batches(list(data))))
        read = read_columns(frame)
        rows = {n: np.asarray(read.arrays[n]) for n in (lock.id, *lock.value_columns)}
        runs.append(_run(lock, "data", rows, feed))
    return domain_parity(
        lock,
        target,
        runs,
        lambda matrix: list(matrix.T),
        lambda run, got: explain(lock, run, got),
        tolerance_of(exact, ulps),
        read=lambda out: _values_of(lock, out),
    )


def _sample(lock: SeriesLock) -> np.ndarray:
    """Positions of the probed series: spread over the sorted ids."""
    count = len(lock.table)
    return np.unique(np.linspace(0, count - 1, min(SAMPLED, count)).round().astype(np.int64))


def _unseen_id(lock: SeriesLock) -> Any:
    ids = lock.table.ids
    if ids.integers:
        return int(ids.value(len(ids) - 1)) + 1
    return str(ids.value(len(ids) - 1)) + "~unseen"


def _probe_rows(lock: SeriesLock, sample: np.ndarray, dtype: str) -> dict[str, np.ndarray]:
    ids = [lock.table.ids.value(int(p)) for p in sample for _ in STEPS]
    columns: dict[str, list[float]] = {name: [] for name in lock.value_columns}
    for name in lock.value_columns:
        center, scale = center_scale(lock.method, lock.table.statistics[name])
        for p in sample:
            columns[name].extend((center[p] + scale[p] * STEPS).tolist())
    if lock.unseen != "error":
        extra = [probes_of(f)["input"] for f in lock.features]
        width = max(len(e) for e in extra)
        ids += [_unseen_id(lock)] * width
        for name, values in zip(lock.value_columns, extra, strict=True):
            columns[name].extend(np.resize(np.array(values, dtype=np.float64), width).tolist())
    rows = {lock.id: np.array(ids)}
    if lock.time is not None:
        rows[lock.time] = np.arange(len(ids))
    return {**rows, **{n: np.array(v, dtype=dtype) for n, v in columns.items()}}


def _run(lock: SeriesLock, label: str, rows: dict[str, np.ndarray], feed: str) -> ProbeRun:
    expected_columns = lock.transform(rows, extra="keep")
    values = np.column_stack([rows[n] for n in lock.value_columns])
    expected = np.column_stack([expected_columns[n] for n in lock.value_columns])
    positions = lock.series_of(rows[lock.id])
    bounds = [
        _bound(lock, name, positions, values[:, j], expected[:, j])
        for j, name in enumerate(lock.value_columns)
    ]
    inputs: Any = rows
    if feed == "pandas":
        import pandas as pd

        inputs = pd.DataFrame(rows)
    return ProbeRun(label, inputs, expected, bounds, values)


def _bound(
    lock: SeriesLock, name: str, positions: np.ndarray, x: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """``K eps (|x - c| + |c| + s) / s`` per row (:mod:`normlock.verify.rounding`)."""
    center, scale = (p[np.where(positions < 0, -1, positions)] for p in lock._parameters[name])
    wide = x.astype(np.float64)
    bound = ROUNDING_ULPS * _EPS64 * (np.abs(wide - center) + np.abs(center) + scale) / scale
    if out.dtype == np.float32:
        bound = bound + np.spacing(np.abs(out)).astype(np.float64)
    return np.where(np.isfinite(bound), bound, 0.0)


def _values_of(lock: SeriesLock, out: Any) -> np.ndarray:
    """A target's output as a rows x value columns array."""
    if is_container(out) and not isinstance(out, np.ndarray):
        read = read_columns(out)
        return np.column_stack(
            [np.asarray(read.arrays[n], dtype=np.float64) for n in lock.value_columns]
        )
    array = np.asarray(out, dtype=np.float64)
    return array.reshape(-1, 1) if array.ndim == 1 else array


def explain(lock: SeriesLock, run: ProbeRun, got: np.ndarray) -> Cause:
    """The series mistake that fits ``got``, or an unexplained cause."""
    rows = (
        run.inputs
        if isinstance(run.inputs, dict)
        else {c: run.inputs[c].to_numpy() for c in run.inputs}
    )
    positions = lock.series_of(rows[lock.id])
    seen = positions >= 0
    eps = float(np.finfo(run.expected.dtype).eps)
    wide = got.astype(np.float64)

    def fits(candidate: np.ndarray, where: Any = slice(None)) -> bool:
        residual = candidate_residual(wide[where], candidate[where], np.ones(wide[where].shape))
        return residual <= EXPLAINED * eps

    if not seen.all() and fits(run.expected.astype(np.float64), seen):
        return _unseen(lock, run, wide, seen, eps)
    for kind, message, candidate in _candidates(lock, run, positions):
        if fits(candidate):
            return Cause(kind, message)
    other = _misjoined(lock, run, wide, positions, 1e3 * eps)
    if other is not None:
        return other
    worst = int(np.nanargmax(np.abs(wide - run.expected).max(axis=1)))
    return Cause(
        "unexplained",
        "the outputs differ in a way no series mistake explains; worst at series "
        f"{rows[lock.id][worst].item()!r}",
    )


def _candidates(
    lock: SeriesLock, run: ProbeRun, positions: np.ndarray
) -> list[tuple[str, str, np.ndarray]]:
    x = run.array.astype(np.float64)
    found = []
    global_out = np.column_stack([f.apply(x[:, j]) for j, f in enumerate(lock.features)])
    found.append(
        (
            "global",
            "normalized with the global statistics of all series where the lock uses each "
            "series' own",
            global_out,
        )
    )
    if lock.method == "standard":
        ddof = 1 - int(lock.options.get("ddof", 0))
        counts = lock.table.counts[np.maximum(positions, 0)].astype(np.float64)
        factor = np.sqrt((counts - lock.options.get("ddof", 0)) / np.maximum(counts - ddof, 1))
        flipped = []
        for j, name in enumerate(lock.value_columns):
            center, scale = (
                p[np.where(positions < 0, -1, positions)] for p in lock._parameters[name]
            )
            flipped.append((x[:, j] - center) / (scale * np.where(positions < 0, 1.0, factor)))
        found.append(
            (
                "ddof",
                f"each series' std with ddof={ddof} where the lock uses ddof={1 - ddof}",
                np.column_stack(flipped),
            )
        )
    windows = np.empty_like(x)
    for code in np.unique(positions):
        rows = positions == code
        block = x[rows]
        windows[rows] = (block - block.mean(axis=0)) / np.where(
            block.std(axis=0) == 0, 1, block.std(axis=0)
        )
    found.append(
        (
            "per_window",
            "each series' rows standardized by their own mean and std (per window) where the "
            "lock uses the series' fitted statistics",
            windows,
        )
    )
    return found


def _misjoined(
    lock: SeriesLock, run: ProbeRun, got: np.ndarray, positions: np.ndarray, tolerance: float
) -> Cause | None:
    """Another series' statistics: every probed series' outputs fit one of the table's."""
    x = run.array.astype(np.float64)
    for code in np.unique(positions[positions >= 0]):
        rows = np.flatnonzero(positions == code)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = (x[rows[-1], 0] - x[rows[0], 0]) / (got[rows[-1], 0] - got[rows[0], 0])
        if not (np.isfinite(scale) and scale > 0):
            continue
        center = x[rows[0], 0] - got[rows[0], 0] * scale
        centers, scales = lock._parameters[lock.value_columns[0]]
        close = np.abs(centers[:-1] - center) <= tolerance * (np.abs(center) + abs(scale))
        match = np.flatnonzero(close & np.isclose(scales[:-1], scale, rtol=tolerance, atol=0))
        if len(match) and match[0] != code:
            return Cause(
                "other_series",
                f"series {lock.table.ids.value(int(code))!r} is normalized with series "
                f"{lock.table.ids.value(int(match[0]))!r}'s statistics: the join on "
                f"{lock.id!r} is off",
            )
    return None


def _unseen(
    lock: SeriesLock, run: ProbeRun, got: np.ndarray, seen: np.ndarray, eps: float
) -> Cause:
    """What the target gave the unseen series, where the seen ones match."""
    rows = np.flatnonzero(~seen)
    x = run.array.astype(np.float64)[rows]
    policy = {"global": "the global statistics", "nan": "NaN"}[lock.unseen]
    if np.isnan(got[rows]).all():
        given = "NaN"
    else:
        given = "other statistics"
        candidate = np.column_stack([f.apply(x[:, j]) for j, f in enumerate(lock.features)])
        if candidate_residual(got[rows], candidate, np.ones(candidate.shape)) <= EXPLAINED * eps:
            given = "the global statistics"
        centers, scales = lock._parameters[lock.value_columns[0]]
        finite = np.isfinite(x[:, 0])
        z = (x[finite, :1] - centers[None, :-1]) / scales[None, :-1]
        near = np.abs(z - got[rows[finite], :1]) <= 1e3 * eps * (1 + np.abs(z))
        close = np.all(near, axis=0)
        if close.any():
            given = f"series {lock.table.ids.value(int(np.flatnonzero(close)[0]))!r}'s statistics"
    return Cause(
        "unseen",
        f"an unseen series is normalized with {given} where the lock's policy gives it {policy} "
        f"(unseen={lock.unseen!r})",
    )
