"""``series.fit``: statistics per series of a panel, in one streaming pass.

Each chunk's ids are numbered (:class:`~normlock.domains.series.ids.IdNumbering`) and
every value column's values are added to exact per-series sums
(:class:`~normlock.domains.series.digits.GroupedSums`): memory grows with the number of
series, not of rows (``robust`` keeps the values for its quantiles). Beside them, the
values of all series feed the global statistics (:mod:`normlock.domains.channels`,
exact, with the reference sample monitoring reads). The table is sorted by id, so any
chunking and any order of the same rows give the same lock, bit for bit.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from normlock.chain import FeatureLock, Step, as_float64
from normlock.domains.base import source_name, stamp
from normlock.domains.channels import ChannelStats
from normlock.domains.series.digits import GroupedSums
from normlock.domains.series.ids import IdNumbering, as_ids, check_no_nulls
from normlock.domains.series.lock import UNSEEN, SeriesLock, _id_column
from normlock.domains.series.methods import (
    check_method,
    moments_statistics,
    quantile_statistics,
)
from normlock.domains.series.table import SeriesTable
from normlock.errors import ColumnNotFoundError, InputError, NormlockWarning
from normlock.frames import is_container, is_numeric, read_columns
from normlock.methods import get_method
from normlock.reference import reference_of
from normlock.stats import DEFAULT_EXACT_LIMIT, QuantileStore


def _chunks(data: Any) -> Iterator[Any]:
    """The chunks of ``data``: a container, files (paths or globs), or an iterable."""
    if is_container(data):
        yield data
        return
    if isinstance(data, str | Path) or (
        isinstance(data, list | tuple) and data and all(isinstance(d, str | Path) for d in data)
    ):
        from normlock.io.files import batch_source, expand

        paths = [data] if isinstance(data, str | Path) else list(data)
        yield from batch_source(expand([str(p) for p in paths]))()
        return
    if isinstance(data, Iterable):
        yield from data
        return
    raise InputError(
        f"cannot fit series on {type(data).__name__}: pass a frame, a dict of columns, "
        "Parquet/CSV files, or an iterable of such chunks"
    )


def fit(
    data: Any,
    *,
    id: str,
    value_columns: Sequence[str] | None = None,
    time: str | None = None,
    method: str = "standard",
    ddof: int = 0,
    quantile_range: tuple[float, float] = (25.0, 75.0),
    unseen: str = "global",
    min_count: int = 1,
    sources: list[str] | None = None,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
) -> SeriesLock:
    """Fit statistics per series on a training panel.

    Args:
        data: a pandas/polars DataFrame, an Arrow table, a dict of columns, Parquet/CSV
            files (paths or globs), or an iterable of such chunks.
        id: the column naming each row's series (integers or strings).
        value_columns: the columns to normalize (default: every numeric column but the
            id and time columns).
        time: the time column, if any (carried through; not normalized).
        method: ``standard`` (mean/std), ``minmax`` or ``robust`` (median/IQR).
        ddof: ``standard``'s delta degrees of freedom (0: population std).
        quantile_range: ``robust``'s quantiles, in percent.
        unseen: what a series the lock has not seen gets when transformed: ``global``
            (the statistics of all training values), ``error`` or ``nan``.
        min_count: a series with fewer finite values than this in a column (or, for the
            std, no more than ``ddof``) gets the global statistics for it, with a warning.
        sources: names of the data, for the provenance.
        exact_limit: recorded with the reference quantiles.

    Returns:
        The :class:`~normlock.domains.series.lock.SeriesLock`.
    """
    check_method(method, ddof, quantile_range)
    if unseen not in UNSEEN:
        raise InputError(f"unseen must be one of {', '.join(UNSEEN)}, got {unseen!r}")
    numbering = IdNumbering()
    names: list[str] = []
    sums: dict[str, GroupedSums] = {}
    kept: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    rows_per_series = np.zeros(0, np.int64)
    overall: ChannelStats | None = None
    columns: tuple[str, ...] = ()
    rows = 0
    for index, chunk in enumerate(_chunks(data)):
        read = read_columns(chunk)
        if not columns:
            columns = read.names
            names = _value_columns(read, id, time, value_columns)
            sums = {n: GroupedSums() for n in names}
            overall = ChannelStats(len(names), None, exact_limit)
        elif set(read.names) != set(columns):
            raise InputError(
                f"chunk {index} has columns {list(read.names)}, chunk 0 {list(columns)}"
            )
        ids = as_ids(_id_column(chunk, read, id), id)
        check_no_nulls(ids, id, rows)
        codes = numbering.codes(ids)
        values = [as_float64(n, read.arrays[n]) for n in names]
        for name, x in zip(names, values, strict=True):
            sums[name].grow(numbering.count)
            sums[name].update(codes, x)
            if method == "robust":
                kept.setdefault(name, []).append((codes, x))
        rows_per_series = _counted(rows_per_series, codes, numbering.count)
        assert overall is not None
        if read.rows:
            overall.update(values)
        rows += read.rows
    if overall is None or rows == 0:
        raise InputError("no rows to fit on: the source yielded no chunk, or only empty ones")
    ordered, order = numbering.sorted()
    needed = max(min_count, ddof + 1 if method == "standard" else 1)
    statistics, features, found = {}, [], []
    for name, summary in zip(names, overall.summaries(), strict=True):
        values = kept.get(name)
        per_series = _statistics(method, sums[name], values, numbering.count, ddof, quantile_range)
        overall_stats = _overall(method, summary, values, ddof, quantile_range)
        statistics[name], warned = _with_fallback(
            name,
            {k: v[order] for k, v in per_series.items()},
            sums[name].count[order],
            overall_stats,
            needed,
        )
        features.append(_global(name, method, summary, values, ddof, quantile_range))
        found.extend(warned)
    table = SeriesTable(ordered, rows_per_series[order], statistics)
    passthrough = tuple(c for c in columns if c not in names)
    lock = SeriesLock(
        features=tuple(features),
        columns=columns,
        passthrough=passthrough,
        spec={"domain": "series", "id": id, "time": time, "method": method, "value_columns": names},
        provenance={
            "sources": list(sources or [source_name(data)]),
            "rows": rows,
            "exact_limit": exact_limit,
        },
        **stamp(),
        id=id,
        time=time,
        method=method,
        options=_options(method, ddof, quantile_range),
        unseen=unseen,
        table=table,
    )
    for message in found:
        warnings.warn(message, NormlockWarning, stacklevel=2)
    return lock


def _counted(counts: np.ndarray, codes: np.ndarray, groups: int) -> np.ndarray:
    """``counts`` (grown to ``groups``) plus the rows of each group in ``codes``."""
    grown = np.concatenate([counts, np.zeros(groups - len(counts), np.int64)])
    return grown + np.bincount(codes, minlength=groups)


def _value_columns(read: Any, id: str, time: str | None, asked: Sequence[str] | None) -> list[str]:
    given = [id] + ([time] if time else []) + list(asked or [])
    missing = [n for n in given if n not in read.arrays]
    if missing:
        raise ColumnNotFoundError.from_missing(missing, read.names)
    if asked is not None:
        names = list(asked)
        bad = [n for n in names if not is_numeric(read.arrays[n])]
        if bad:
            raise InputError(f"value column(s) {bad} are not numeric")
    else:
        names = [n for n in read.names if n not in (id, time) and is_numeric(read.arrays[n])]
    if not names:
        raise InputError(f"no numeric value column beside the id {id!r}; pass value_columns")
    return names


def _options(method: str, ddof: int, quantile_range: tuple[float, float]) -> dict[str, Any]:
    if method == "standard":
        return {"ddof": ddof}
    if method == "robust":
        return {"quantile_range": [float(q) for q in quantile_range]}
    return {}


def _statistics(
    method: str,
    sums: GroupedSums,
    kept: list[tuple[np.ndarray, np.ndarray]] | None,
    groups: int,
    ddof: int,
    quantile_range: tuple[float, float],
) -> dict[str, np.ndarray]:
    if method != "robust":
        return moments_statistics(method, sums, ddof)
    assert kept is not None
    codes = np.concatenate([c for c, _ in kept])
    values = np.concatenate([v for _, v in kept])
    return quantile_statistics(codes, values, groups, quantile_range)


def _overall(
    method: str,
    summary: Any,
    kept: list[tuple[np.ndarray, np.ndarray]] | None,
    ddof: int,
    quantile_range: tuple[float, float],
) -> dict[str, np.ndarray]:
    """The method's statistics of every training value of the column, as one series."""
    if method == "standard":
        return {"mean": np.array([summary.mean]), "std": np.array([summary.std(ddof)])}
    if method == "minmax":
        return {"min": np.array([summary.min]), "max": np.array([summary.max])}
    assert kept is not None
    values = np.concatenate([v for _, v in kept])
    return quantile_statistics(np.zeros(len(values), np.int64), values, 1, quantile_range)


def _global(
    name: str,
    method: str,
    summary: Any,
    kept: list[tuple[np.ndarray, np.ndarray]] | None,
    ddof: int,
    quantile_range: tuple[float, float],
) -> FeatureLock:
    """The column's chain fitted on every training value: the global statistics."""
    fitted = get_method(method)
    config = fitted.configure(_options(method, ddof, quantile_range))
    basis = summary
    if method == "robust":
        assert kept is not None
        values = np.concatenate([v for _, v in kept])
        basis = replace(summary, quantiles=QuantileStore(len(values) + 1).update(values))
    result = fitted.fit(config, basis)
    return FeatureLock(
        name,
        (Step(fitted.name, result.params),),
        "keep",
        "error",
        reference_of(summary),
        result.warnings,
    )


def _with_fallback(
    name: str,
    statistics: dict[str, np.ndarray],
    counts: np.ndarray,
    overall: dict[str, np.ndarray],
    needed: int,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Series with fewer than ``needed`` finite values in the column take the global
    statistics ``overall`` (those of every value, as one group)."""
    few = counts < needed
    if not few.any():
        return statistics, []
    filled = {key: np.where(few, overall[key][0], values) for key, values in statistics.items()}
    message = (
        f"column {name!r}: {int(few.sum())} series have fewer than {needed} finite value(s) "
        "and use the global statistics"
    )
    return filled, [message]
