"""Series ids: numbering them during a fit, finding them when transforming.

Ids are integers or strings. A fit numbers each id the first time it appears
(:class:`IdNumbering`, in Arrow: the ids of a chunk are matched against those seen with
one hash lookup); the lock keeps them sorted (:class:`SortedIds`), so that the same
series in any order give the same lock. A transform finds each row's series by its id:
rows of one series usually come together, so only the first row of each run is looked
up (binary search for integers, a hash lookup for strings) and its number repeated.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from normlock.errors import InputError

_HASHED_FROM = 4096
"""Run heads from which string ids are looked up with Arrow's hash join (else a dict)."""


def as_ids(values: Any, name: str) -> pa.Array:
    """An id column as an Arrow array of int64 or strings (large_string), or an error."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    array = values if isinstance(values, pa.Array) else pa.array(_plain(values))
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    if pa.types.is_integer(array.type):
        return array.cast(pa.int64())
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array.cast(pa.large_string())
    raise InputError(
        f"the id column {name!r} holds {array.type} values; series ids must be integers or strings"
    )


def _plain(values: Any) -> Any:
    array = np.asarray(values)
    if array.dtype.kind == "O":
        return array.tolist()
    return array


def check_no_nulls(ids: pa.Array, name: str, first_row: int = 0) -> None:
    """Raise naming the first row whose id is missing."""
    if ids.null_count:
        row = int(pc.index(pc.is_null(ids), True).as_py())
        raise InputError(
            f"the id column {name!r} is missing at row {first_row + row + 1}; every row needs "
            "its series id"
        )


class IdNumbering:
    """Numbers for the ids of a fit, in the order they first appear."""

    def __init__(self) -> None:
        self.known: pa.Array | None = None

    @property
    def count(self) -> int:
        """Ids numbered so far."""
        return 0 if self.known is None else len(self.known)

    def codes(self, ids: pa.Array) -> np.ndarray:
        """Each row's number (``int64``), numbering the ids not seen before."""
        if self.known is None:
            encoded = pc.dictionary_encode(ids)
            self.known = encoded.dictionary
            return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        unique = pc.unique(ids)
        fresh = unique.filter(pc.is_null(pc.index_in(unique, value_set=self.known)))
        if len(fresh):
            self.known = pa.concat_arrays([self.known, fresh])
        return (
            pc.index_in(ids, value_set=self.known).to_numpy(zero_copy_only=False).astype(np.int64)
        )

    def sorted(self) -> tuple[SortedIds, np.ndarray]:
        """The ids sorted, and for each sorted position its number."""
        assert self.known is not None
        order = pc.sort_indices(self.known).to_numpy().astype(np.int64)
        return SortedIds(self.known.take(pa.array(order))), order


@dataclass(frozen=True, eq=False)
class SortedIds:
    """A lock's series ids, sorted and distinct (int64 or large_string Arrow array)."""

    ids: pa.Array

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def integers(self) -> bool:
        """Whether the ids are integers."""
        return pa.types.is_integer(self.ids.type)

    @functools.cached_property
    def _numbers(self) -> np.ndarray:
        return self.ids.to_numpy()

    @functools.cached_property
    def _positions(self) -> dict[str, int]:
        return {value: i for i, value in enumerate(self.ids.to_pylist())}

    def lookup(self, ids: pa.Array) -> np.ndarray:
        """Each row's series position (``int64``), -1 for an id the lock does not know."""
        if not len(ids):
            return np.empty(0, np.int64)
        heads, lengths = _runs(ids)
        found = self._find(ids.take(pa.array(heads)) if len(heads) < len(ids) else ids)
        return found if len(heads) == len(ids) else np.repeat(found, lengths)

    def _find(self, ids: pa.Array) -> np.ndarray:
        if self.integers:
            values = ids.to_numpy(zero_copy_only=False)
            at = np.searchsorted(self._numbers, values)
            inside = at < len(self._numbers)
            hit = inside & (self._numbers[np.minimum(at, len(self._numbers) - 1)] == values)
            return np.where(hit, at, -1).astype(np.int64)
        if len(ids) >= _HASHED_FROM:
            found = pc.index_in(ids, value_set=self.ids)
            return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        positions = self._positions
        return np.array([positions.get(v, -1) for v in ids.to_pylist()], dtype=np.int64)

    def value(self, position: int) -> Any:
        """The id at a sorted position."""
        return self.ids[position].as_py()


def _runs(ids: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each run of equal ids, and the runs' lengths."""
    if len(ids) == 1:
        return np.zeros(1, np.int64), np.ones(1, np.int64)
    changed = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1))
    starts = np.flatnonzero(changed.to_numpy(zero_copy_only=False)) + 1
    heads = np.concatenate(([0], starts)).astype(np.int64)
    return heads, np.diff(np.append(heads, len(ids)))
