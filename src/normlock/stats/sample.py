"""A sample of rows determined by their content: the rows whose hash is among the k smallest.

Every row of a fit has a 64-bit hash of its feature values (:func:`wide_row_hashes`; its
top 48 bits are the row sketch's hash, :mod:`normlock.stats.rows`). A
:class:`HashSample` keeps the ``k`` distinct rows of smallest hash, each with the number
of times it occurred and its values: those of the hashed columns and of the columns
carried beside them (a target), which tell apart rows of equal features. The kept rows
are a set, stored in no particular order. As in the hash, a hashed column's
``-0.0`` is kept as ``+0.0`` and every NaN as one NaN. The sample depends only on the
multiset of rows, never on how they were chunked, ordered or merged, so a lock's
reference quantiles are the same bits for any split of the same rows, on one machine or
many.

While a fit has at most ``k`` distinct rows the sample holds all of them with their
counts, and its quantiles are exact (numpy's ``linear`` quantiles of every value). Past
that it is a uniform sample of the distinct rows, and a quantile of it is within
``rank_error`` of the asked rank at 99% confidence (Dvoretzky–Kiefer–Wolfowitz over the
effective number of rows, ``(Σ counts)² / Σ counts²``, which is the number of rows kept
when no row repeats). Two different rows share a 64-bit hash with odds of about
``rows × k / 2**64`` (4e-8 for ten million rows), and would then be counted as one.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from normlock.stats.kernel import column_moments, gather_rows, sort_pairs
from normlock.stats.quantiles import (
    CONFIDENCE,
    DEFAULT_SAMPLE_SIZE,
    linear_quantiles_of,
    selected_quantiles,
    total_order,
)

_ALL = 2**64


def likely_cut(rows: int, k: int) -> int:
    """An exclusive bound below which at least ``k`` of the 64-bit hashes of ``rows``
    distinct rows fall, but with odds of about 1e-15: hashes are uniform, so the
    ``(k + 8 sqrt(k)) / rows`` quantile of their range (no bound, ``2**64``, while most
    rows may be among the k)."""
    if rows <= 2 * k:
        return _ALL
    return min(_ALL, int(_ALL * (k + 8 * math.sqrt(k)) / rows))


@dataclass(frozen=True, eq=False)
class HashSample:
    """The distinct rows of smallest hash, with their counts. Immutable (but for an
    :meth:`update` told that its caller gives the sample up).

    The kept rows are a set: they are stored in no particular order (a first chunk's in
    the order of its rows, so that gathering them reads memory in order), and two
    samples are equal when they keep the same rows, counts and values.

    Attributes:
        k: distinct rows kept at most.
        hashes: their 64-bit hashes (``uint64``).
        counts: how often each kept row occurred (``int64``).
        values: the kept rows' values (``float64``, rows x columns, laid out as the
            fitted data was), the carried columns last.
        carried: how many of the last columns are carried, not hashed.
    """

    k: int = DEFAULT_SAMPLE_SIZE
    hashes: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    values: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    carried: int = 0

    @classmethod
    def empty(cls, columns: int, carried: int = 0, k: int = DEFAULT_SAMPLE_SIZE) -> HashSample:
        """A sample of no rows of ``columns`` columns, the last ``carried`` of them not
        hashed."""
        return cls(
            k, np.empty(0, np.uint64), np.empty(0, np.int64), np.empty((0, columns)), carried
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HashSample):
            return NotImplemented
        if (self.k, self.carried, len(self.hashes)) != (other.k, other.carried, len(other.hashes)):
            return False
        ours, theirs = self._order(), other._order()
        return (
            np.array_equal(self.hashes[ours], other.hashes[theirs])
            and np.array_equal(self.counts[ours], other.counts[theirs])
            and np.array_equal(
                self.values[ours].view(np.uint64), other.values[theirs].view(np.uint64)
            )
        )

    __hash__ = None  # type: ignore[assignment]

    def _order(self) -> np.ndarray:
        """The order of the kept rows by hash, then by their carried values' bits."""
        carried = self.values[:, self.values.shape[1] - self.carried :]
        return self._grouped(self.hashes, [carried[:, j] for j in range(self.carried)])[0]

    @property
    def saturated(self) -> bool:
        """True when ``k`` rows are kept, so that the sample may leave rows out."""
        return len(self.hashes) >= self.k

    @functools.cached_property
    def largest(self) -> int:
        """The largest kept hash (-1 when none is)."""
        return int(self.hashes.max()) if len(self.hashes) else -1

    def cut(self, rows: int) -> int:
        """An exclusive bound for the hashes of ``rows`` new rows: those at or above it
        cannot enter the sample, but with odds of about 1e-15 (:meth:`update` detects it)."""
        cut = likely_cut(rows, self.k)
        return min(cut, self.largest + 1) if self.saturated else cut

    def update(
        self,
        hashes: np.ndarray,
        rows: np.ndarray,
        block: np.ndarray | Sequence[np.ndarray],
        carried: Sequence[np.ndarray],
        cut: int,
        *,
        reuse: bool = False,
    ) -> HashSample | None:
        """The sample that also covers a chunk (``block``: a 2-D array or a list of
        columns, hashed; ``carried``: its carried columns), given the hashes of its rows
        below ``cut`` (from :meth:`cut`), in ascending order, and those ``rows``; None in
        the rare case that these do not settle it (many repeated rows), when the caller
        must pass every row's hash (``cut = 2**64``). ``reuse``: the caller gives this
        sample up (nothing reads it again), so that rows entering a full sample are
        written into its arrays instead of a copy of them; it is unchanged when None is
        returned."""
        bits = [np.asarray(c[rows], np.float64) for c in carried]
        order, starts = self._grouped(hashes, bits, ascending=True)
        settled = cut >= _ALL or (self.saturated and cut > self.largest)
        if not settled and len(starts) < self.k:
            return None
        firsts = order[starts[: self.k]]  # one row of each of the chunk's k first distinct
        if len(starts) == len(order):  # no repeated row
            counts = np.ones(len(firsts), np.int64)
        else:
            counts = np.diff(np.append(starts, len(order)))[: self.k].astype(np.int64)
        picked, kept = rows[firsts], hashes[firsts]
        by_row = np.arange(len(picked))  # gathered in the order of the rows: memory in order
        if len(picked) == _length(block):  # every row: put in order without a sort
            by_row[picked] = by_row.copy()
            picked = np.arange(len(picked))
        else:
            sort_pairs(picked, by_row)
        # the hash makes -0.0 and +0.0, and every NaN, one value: so does the sample
        values = gather_rows(block, picked, spare=len(carried))
        for j, column in enumerate(carried):
            values[:, values.shape[1] - len(carried) + j] = column[picked]
        return self._with(kept[by_row], counts[by_row], values, reuse)

    def merge(self, other: HashSample) -> HashSample:
        """A sample of the rows of both; neither argument changes."""
        if (other.k, other.carried) != (self.k, self.carried):
            raise ValueError(
                f"cannot merge samples of k={self.k}, carried={self.carried} and "
                f"k={other.k}, carried={other.carried}"
            )
        return self._with(other.hashes, other.counts, other.values)

    def _with(
        self, hashes: np.ndarray, counts: np.ndarray, values: np.ndarray, reuse: bool = False
    ) -> HashSample:
        if self.saturated:  # rows above the largest kept hash cannot enter
            below = hashes <= self.largest
            if not below.all():
                hashes, counts, values = hashes[below], counts[below], values[below]
        if not len(hashes):
            return self
        k = self.k
        if not len(self.hashes):
            return HashSample(k, hashes[:k], counts[:k], values[:k], self.carried)
        ours = len(self.hashes)
        if ours + len(hashes) <= k and not np.isin(hashes, self.hashes).any():
            return self._joined(np.arange(ours), hashes, counts, values)
        keys, at = np.concatenate([self.hashes, hashes]), np.arange(ours + len(hashes))
        sort_pairs(keys, at)
        if (keys[1:] == keys[:-1]).any():  # a row seen before (or a hash collision)
            hashes, counts, values = self._distinct(
                np.concatenate([self.hashes, hashes]),
                np.concatenate([self.counts, counts]),
                np.concatenate([self.values, values]),
            )
            return HashSample(k, hashes[:k], counts[:k], values[:k], self.carried)
        chosen = at[:k]
        entering = chosen[chosen >= ours] - ours
        if not len(entering):
            return self
        if ours < k:  # the sample grows: the rows it keeps, then those that enter
            kept = np.sort(chosen[chosen < ours])
            return self._joined(kept, hashes[entering], counts[entering], values[entering])
        # saturated: the entering rows take the places of the rows they push out
        evicted = np.ones(ours, bool)
        evicted[chosen[chosen < ours]] = False
        places = np.flatnonzero(evicted)
        kept = (self.hashes, self.counts, self.values)
        kept_hashes, kept_counts, kept_values = kept if reuse else (a.copy() for a in kept)
        kept_hashes[places], kept_counts[places] = hashes[entering], counts[entering]
        kept_values[places] = values[entering]
        return HashSample(k, kept_hashes, kept_counts, kept_values, self.carried)

    def _joined(
        self, kept: np.ndarray, hashes: np.ndarray, counts: np.ndarray, values: np.ndarray
    ) -> HashSample:
        """The rows ``kept`` of this sample (indices, ascending) and new distinct rows."""
        whole = len(kept) == len(self.hashes)
        ours = (
            (self.hashes, self.counts, self.values)
            if whole
            else (
                self.hashes[kept],
                self.counts[kept],
                self.values[kept],
            )
        )
        return HashSample(
            self.k,
            np.concatenate([ours[0], hashes]),
            np.concatenate([ours[1], counts]),
            np.concatenate([ours[2], values]),
            self.carried,
        )

    def _grouped(
        self, hashes: np.ndarray, carried: Sequence[np.ndarray], *, ascending: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """The order that sorts rows by hash, then by their ``carried`` values' bits,
        and where each run of equal rows starts in it (``ascending``: the hashes are
        sorted already)."""
        bits = [np.ascontiguousarray(c).view(np.uint64) for c in carried]
        order = np.arange(len(hashes))
        if bits:
            order = np.lexsort((*bits, hashes))
        elif not ascending:
            sort_pairs(hashes.copy(), order)
        if len(order) < 2:
            return order, np.arange(len(order))
        ordered = hashes[order]
        first = ordered[1:] != ordered[:-1]
        for column in bits:
            ordered = column[order]
            first |= ordered[1:] != ordered[:-1]
        return order, np.flatnonzero(np.concatenate(([True], first)))

    def _distinct(
        self, hashes: np.ndarray, counts: np.ndarray, values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows in sample order, repeats made one row with their counts added."""
        carried = values[:, values.shape[1] - self.carried :]
        order, starts = self._grouped(hashes, [carried[:, j] for j in range(self.carried)])
        firsts = order[starts]
        if len(starts) == len(order):
            return hashes[firsts], counts[firsts], values[firsts]
        return hashes[firsts], np.add.reduceat(counts[order], starts), values[firsts]

    @property
    def rows(self) -> int:
        """Rows the kept hashes stand for (repeats included)."""
        return int(self.counts.sum())

    @functools.cached_property
    def _by_column(self) -> np.ndarray:
        """The values with each column contiguous (a row-major sample transposed once,
        when a column is first read: what quantile queries read)."""
        return np.ascontiguousarray(self.values.T)

    def column(self, j: int, limit: int) -> SampledValues:
        """Column ``j``'s finite values in the sample, for quantile queries."""
        return SampledValues.of(self._by_column[j], self.counts, not self.saturated, limit)


def _length(block: np.ndarray | Sequence[np.ndarray]) -> int:
    return block.shape[0] if isinstance(block, np.ndarray) else len(block[0])


@dataclass(frozen=True)
class SampledValues:
    """One column's finite values in a :class:`HashSample`, with their counts.

    It answers the quantile queries a method's fit asks of a summary's store: by
    selection (linear time) while no value repeats, else from the values sorted once.

    Attributes:
        values: the distinct kept rows' finite values, in no particular order.
        counts: how often each occurred.
        exact: True when the sample holds every row (quantiles exact).
        limit: the fit's ``exact_limit``, for messages.
    """

    values: np.ndarray
    counts: np.ndarray
    exact: bool
    limit: int

    @classmethod
    def of(cls, values: np.ndarray, counts: np.ndarray, exact: bool, limit: int) -> SampledValues:
        """The finite ``values``, each occurring ``counts`` times."""
        finite = np.isfinite(values)
        if not finite.all():
            values, counts = values[finite], counts[finite]
        return cls(values, counts, exact, limit)

    @functools.cached_property
    def sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """The values in total order (``-0.0`` before ``+0.0``) and their counts."""
        values, counts = self.values, self.counts
        if not counts.size or counts.max() == 1:  # no repeats: a plain sort
            return total_order(values), counts
        order = np.argsort(values, kind="stable")
        zeros = np.flatnonzero(values[order] == 0.0)  # one run: -0.0 first
        if zeros.size:
            run = order[zeros]
            order[zeros] = run[np.argsort(~np.signbit(values[run]), kind="stable")]
        return values[order], counts[order]

    @property
    def count(self) -> int:
        """Values the kept rows stand for."""
        return int(self.counts.sum())

    @property
    def rank_error(self) -> float:
        """Rank-error bound of the quantiles at 99% confidence (0 when exact)."""
        if self.exact:
            return 0.0
        total, squares = float(self.counts.sum()), float(np.square(self.counts, dtype=float).sum())
        effective = max(1.0, total * total / squares) if squares else 1.0
        return math.sqrt(math.log(2 / (1 - CONFIDENCE)) / (2 * effective))

    def quantiles(self, probabilities: Sequence[float] | np.ndarray) -> np.ndarray:
        """numpy ``linear`` quantiles of the values, each repeated as often as it occurred."""
        probabilities = np.asarray(probabilities, dtype=np.float64)
        if not self.values.size:
            return np.full(probabilities.shape, np.nan)
        if "sorted" not in self.__dict__ and self.counts.max() == 1:
            return selected_quantiles([self.values], probabilities)
        ordered, counts = self.sorted
        ends = np.cumsum(counts)

        def order_statistic(ranks: np.ndarray) -> np.ndarray:
            return ordered[np.searchsorted(ends, ranks, side="right")]

        return linear_quantiles_of(order_statistic, int(ends[-1]), probabilities)

    def sorted_values(self) -> np.ndarray:
        """Every value, repeats included, in total order."""
        return np.repeat(*self.sorted)

    def exact_sums(self) -> tuple[int, int, int]:
        """The number of values the kept rows stand for, and the exact sums of those
        values and of their squares (units of ``2**-UNIT_BITS``): each kept value counted
        as often as it occurred."""
        count = total = squares = 0
        repeats = np.unique(self.counts).tolist()
        for times in repeats:
            values = self.values if len(repeats) == 1 else self.values[self.counts == times]
            (found,) = column_moments([values]).moments
            count += times * found.count
            total += times * found.sum_units
            squares += times * (found.sum_sq_units or 0)
        return count, total, squares
