"""The series lock: each series of a panel normalized by its own statistics, by id.

A :class:`SeriesLock` holds the per-series table (:mod:`normlock.domains.series.table`)
and, as its features, one locked chain per value column fitted on every training value:
the *global* statistics, the reference that monitoring reads, and what an unseen series
gets under ``unseen="global"``. The transform finds each row's series by its id and
computes ``(x - center) / scale`` with that series' center and scale (see
:mod:`normlock.domains.series.methods`), in float64, rounded once (float32 stays
float32); the inverse, ``y * scale + center``, maps forecasts back per series.

Unseen series, by policy: ``global`` (the global statistics), ``error`` (an error naming
the id and the row) or ``nan`` (NaN outputs).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import pyarrow as pa

from normlock.chain import as_float64, output_dtype
from normlock.domains.base import DomainLock
from normlock.domains.series.ids import SortedIds, as_ids, check_no_nulls
from normlock.domains.series.methods import METHODS, center_scale
from normlock.domains.series.table import SeriesTable
from normlock.errors import NO_ORIGIN, ColumnNotFoundError, DomainError, InputError, Origin
from normlock.frames import read_columns, write_columns

T = TypeVar("T")
UNSEEN = ("global", "error", "nan")


def _empty_table() -> SeriesTable:
    return SeriesTable(SortedIds(pa.array([], pa.int64())), np.zeros(0, np.int64), {})


@dataclass(frozen=True)
class SeriesLock(DomainLock):
    """Per-series normalization of a panel (see the module docs).

    Attributes:
        id: the id column.
        time: the time column, if the panel has one (carried through).
        method: ``standard``, ``minmax`` or ``robust``.
        options: the method's options (``ddof``, ``quantile_range``).
        unseen: what a series the lock has not seen gets: ``global``, ``error``, ``nan``.
        table: every series' statistics.
    """

    KIND: ClassVar[str] = "series"
    id: str = "id"
    time: str | None = None
    method: str = "standard"
    options: Mapping[str, Any] = field(default_factory=dict)
    unseen: str = "global"
    table: SeriesTable = field(default_factory=_empty_table)

    def __post_init__(self) -> None:
        if self.method not in METHODS or self.unseen not in UNSEEN:
            raise InputError(
                f"a series lock needs a method in {tuple(METHODS)} and unseen in {UNSEEN}"
            )

    def section(self) -> dict[str, Any]:
        """The id and time columns, method, options, unseen policy and the table."""
        return {
            "id": self.id,
            "time": self.time,
            "method": self.method,
            "options": dict(self.options),
            "unseen": self.unseen,
            "table": self.table.encoded,
        }

    @classmethod
    def fields_of_section(cls, section: Mapping[str, Any]) -> dict[str, Any]:
        """Inverse of :meth:`section`."""
        return {
            "id": str(section["id"]),
            "time": None if section["time"] is None else str(section["time"]),
            "method": str(section["method"]),
            "options": dict(section["options"]),
            "unseen": str(section["unseen"]),
            "table": SeriesTable.decode(section["table"]),
        }

    def describe(self) -> dict[str, Any]:
        """The id column, method, unseen policy and number of series."""
        found = {"id": self.id, "method": self.method, **self.options, "unseen": self.unseen}
        return {**found, "series": len(self.table), **({"time": self.time} if self.time else {})}

    def domain_changes(self, other: Any) -> list[tuple[str, Any, Any]]:
        """The settings that differ, and how many series' statistics do."""
        found = super().domain_changes(other)
        if not isinstance(other, SeriesLock) or found[:1] == [("kind", self.KIND, None)]:
            return found
        ours, theirs = self.table, other.table
        if ours.ids.ids != theirs.ids.ids:
            mine, yours = set(ours.ids.ids.to_pylist()), set(theirs.ids.ids.to_pylist())
            found.append(
                (
                    "series ids",
                    f"{len(mine - yours):,} only here",
                    f"{len(yours - mine):,} only there",
                )
            )
            return found
        for column in sorted(set(ours.statistics) & set(theirs.statistics)):
            a, b = ours.statistics[column], theirs.statistics[column]
            if set(a) != set(b):
                continue
            differ = np.zeros(len(ours), bool)
            for name in a:
                differ |= a[name].view(np.uint64) != b[name].view(np.uint64)
            if differ.any():
                found.append(
                    (
                        f"{column} statistics",
                        f"{int(differ.sum()):,} of {len(ours):,} series",
                        "differ",
                    )
                )
        return found

    def fitted_on(self) -> str:
        """``N series (R rows)``."""
        return f"{len(self.table):,} series ({self.provenance.get('rows', 0):,} rows)"

    @property
    def value_columns(self) -> tuple[str, ...]:
        """The normalized columns."""
        return self.feature_names

    @functools.cached_property
    def _parameters(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per value column, the centers and scales of every series, then the unseen
        series' (the global ones, or NaN)."""
        found = {}
        for feature in self.features:
            center, scale = center_scale(self.method, self.table.statistics[feature.name])
            fallback = feature.affine() if self.unseen == "global" else (np.nan, np.nan)
            assert fallback is not None
            found[feature.name] = (np.append(center, fallback[0]), np.append(scale, fallback[1]))
        return found

    def series_of(self, ids: Any) -> np.ndarray:
        """Each id's position in the lock's table (-1 for an id it has not seen)."""
        return self.table.ids.lookup(as_ids(ids, self.id))

    # ---- transform ------------------------------------------------------------------

    def transform(  # type: ignore[override]
        self,
        data: T,
        *,
        extra: Literal["error", "keep"] = "error",
        origin: Origin = NO_ORIGIN,
        out: np.ndarray | None = None,
    ) -> T:
        """Normalize each row's values with its series' statistics; same container out
        (pandas, polars, Arrow, a dict of columns). The id column and the time column
        are carried through.

        Example:
            >>> import numpy as np
            >>> from normlock.domains import series
            >>> panel = {"sensor": np.array([1, 1, 2, 2]), "load": np.array([1.0, 3.0, 10.0, 30.0])}
            >>> lock = series.fit(panel, id="sensor")
            >>> lock.transform(panel)["load"]
            array([-1.,  1., -1.,  1.])
        """
        if out is not None:
            raise InputError("out= is for table locks; a series lock returns new columns")
        return self._run(data, inverse=False, extra=extra, origin=origin)

    def inverse_transform(  # type: ignore[override]
        self, data: T, *, extra: Literal["error", "keep"] = "error", origin: Origin = NO_ORIGIN
    ) -> T:
        """Map normalized values (forecasts) back per series: ``y * scale + center``."""
        return self._run(data, inverse=True, extra=extra, origin=origin)

    def _run(self, data: Any, *, inverse: bool, extra: str, origin: Origin) -> Any:
        if extra not in ("error", "keep"):
            raise InputError(f"extra must be 'error' or 'keep', got {extra!r}")
        read = read_columns(data, default_names=self.columns)
        wanted = [self.id, *self.value_columns]
        missing = [n for n in wanted if n not in read.arrays]
        if missing:
            raise ColumnNotFoundError.from_missing(missing, read.names)
        unknown = [n for n in read.names if n not in set(self.columns)]
        if unknown and extra == "error":
            raise InputError(
                f"column(s) {unknown} are not in the lock (it knows {list(self.columns)}); "
                "drop them, or pass extra='keep' to carry them through unchanged"
            )
        ids = as_ids(_id_column(data, read, self.id), self.id)
        check_no_nulls(ids, self.id, origin.first_row)
        positions = self.table.ids.lookup(ids)
        unseen = positions < 0
        if unseen.any() and self.unseen == "error":
            row = int(np.flatnonzero(unseen)[0])
            raise DomainError(
                f"series {ids[row].as_py()!r} ({origin.at(row)}) is not in the lock, which was "
                f"fitted on {len(self.table):,} series ({int(unseen.sum())} row(s) of unseen "
                "series); refit with it, or lock unseen='global' or 'nan'"
            )
        positions = np.where(unseen, len(self.table), positions)
        outputs = {}
        for name in self.value_columns:
            raw = read.arrays[name]
            x = as_float64(name, raw, origin)
            center, scale = (p[positions] for p in self._parameters[name])
            y = x * scale + center if inverse else (x - center) / scale
            outputs[name] = y.astype(output_dtype(raw.dtype), copy=False)
        return write_columns(data, read, outputs)

    # ---- verification and monitoring --------------------------------------------------

    def verify(self, target: Any, data: Any = None, **options: Any) -> Any:
        """Check a serving step that normalizes a panel (a dict of columns in, the
        normalized value columns out) against the lock, on probe rows of a sample of
        series and of an unseen one (see :mod:`normlock.domains.series.parity`)."""
        from normlock.domains.series.parity import verify_series

        return verify_series(self, target, data, **options)

    def monitor(self, stage: Literal["raw", "normalized"] = "raw", **options: Any) -> Any:
        """A monitor of served rows per value column, against the global reference (see
        :mod:`normlock.domains.monitoring`)."""
        from normlock.domains.monitoring import DomainMonitor

        return DomainMonitor(self, stage, _value_columns, **options)


def _value_columns(lock: SeriesLock, batch: Any) -> dict[str, np.ndarray]:
    read = read_columns(batch)
    return {name: as_float64(name, read.arrays[name]) for name in lock.value_columns}


def _id_column(data: Any, read: Any, name: str) -> Any:
    """The id column as the container holds it (Arrow for Arrow and polars frames, the
    pandas column for pandas: no copy of strings into Python objects)."""
    if read.kind == "arrow":
        return data.column(name)
    if read.kind == "polars":
        return data[name].to_arrow()
    if read.kind == "pandas":
        return pa.array(data[name])
    return read.arrays[name]
