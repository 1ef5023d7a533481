"""Exact, mergeable statistics of channels: an image's colour channels, a spectrogram's
frequency bins.

:class:`ChannelStats` sees blocks of values, one column per channel (the pixels of a
batch of images, the frames of a clip), and keeps for every channel the summary of its
raw values (the lock's reference: counts, extrema, exact moments and quantiles) and the
summary of the values after a fixed, data-free *prefix* (the rescale ``x / 255`` of an
image lock, the ``log(x + eps)`` of a spectrogram lock), whose mean and std the lock's
``standard`` step holds. Both are exact (correctly rounded mean and std over every
value) and merge exactly, so any split of the same values gives the same bits.

Integer values of at most 16 bits (``uint8``/``uint16`` pixels) are counted in a
histogram, from which everything is exact, quantiles included. Float values go through
the compiled moments pass (:class:`~normlock.stats.kernel.Moments`), which also hashes
each row (a pixel's channels, a frame's bins) for the content-determined sample of rows
(:class:`~normlock.stats.sample.HashSample`) that the reference quantiles come from, as
in a table fit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from normlock.stats import DEFAULT_EXACT_LIMIT, Summary
from normlock.stats.exact import UNIT_BITS
from normlock.stats.kernel import Moments, sort_pairs, wide_row_hashes
from normlock.stats.sample import HashSample, SampledValues

Prefix = Callable[[np.ndarray], np.ndarray]
"""A data-free step on float64 values of one channel (applied in float64)."""

HISTOGRAM_DTYPES = (np.uint8, np.uint16)
_CHUNK = 1 << 22  # values per bincount call (its index array is int64)


def _weighted_units(values: np.ndarray, counts: np.ndarray) -> tuple[int, int]:
    """Exact ``sum(c * v)`` and ``sum(c * v * v)`` over finite float64 ``values`` with
    integer ``counts``, in units of ``2**-UNIT_BITS``."""
    total = squares = 0
    for value, count in zip(values.tolist(), counts.tolist(), strict=True):
        numerator, denominator = value.as_integer_ratio()  # denominator: a power of two
        total += count * ((numerator << UNIT_BITS) // denominator)
        squares += count * ((numerator * numerator << UNIT_BITS) // (denominator * denominator))
    return total, squares


def histogram_summary(values: np.ndarray, counts: np.ndarray, nan: int, limit: int) -> Summary:
    """The exact summary of finite float64 ``values`` occurring ``counts`` times (and
    ``nan`` NaN values), its quantiles exact."""
    keep = (counts > 0) & np.isfinite(values)
    values, counts = values[keep], counts[keep].astype(np.int64)
    total, squares = _weighted_units(values, counts)
    return Summary(
        count=int(counts.sum()),
        nan=nan,
        min=float(values.min()) if values.size else np.inf,
        max=float(values.max()) if values.size else -np.inf,
        sum_units=total,
        sum_sq_units=squares,
        quantiles=SampledValues.of(values, counts, True, limit),  # type: ignore[arg-type]
    )


class ChannelStats:
    """Per-channel summaries of raw values and of values after a prefix, over blocks.

    Args:
        channels: the number of channels.
        prefix: the data-free step whose output the lock standardizes (None: the raw
            values are standardized).
        exact_limit: the ``exact_limit`` recorded with the quantiles.
    """

    def __init__(
        self, channels: int, prefix: Prefix | None = None, exact_limit: int = DEFAULT_EXACT_LIMIT
    ) -> None:
        self.channels, self.prefix, self.exact_limit = channels, prefix, exact_limit
        self.dtype: np.dtype | None = None  # the values' dtype, from the first block
        self.rows = 0
        self.histogram = np.zeros((channels, 0), np.int64)
        self.raw = Moments(channels)
        self.staged = Moments(channels)
        self.sample = HashSample.empty(channels)

    @property
    def counted(self) -> bool:
        """Whether the values are counted in a histogram (8- or 16-bit integers)."""
        return self.dtype is not None and self.dtype.type in HISTOGRAM_DTYPES

    def update(self, block: np.ndarray | Sequence[np.ndarray]) -> None:
        """Add a block: a 2-D array with one column per channel, or a list of one 1-D
        array per channel (all of one dtype, which every block must share)."""
        columns = list(block.T) if isinstance(block, np.ndarray) else list(block)
        dtype = columns[0].dtype
        if self.dtype is None:
            self.dtype = dtype
            if self.counted:
                self.histogram = np.zeros((self.channels, 1 << (8 * dtype.itemsize)), np.int64)
        elif dtype != self.dtype:
            raise TypeError(f"{dtype} values after {self.dtype} ones")
        self.rows += len(columns[0])
        if self.counted:
            for j, column in enumerate(columns):
                for start in range(0, len(column), _CHUNK):
                    part = column[start : start + _CHUNK]
                    self.histogram[j] += np.bincount(part, minlength=self.histogram.shape[1])
            return
        data = block if isinstance(block, np.ndarray) else columns
        if dtype.kind != "f":
            data = columns = [c.astype(np.float64) for c in columns]
        cut = self.sample.cut(len(columns[0]))
        hashes, rows = self.raw.update(data, hash_below=cut) or (None, None)
        if self.prefix is not None:  # one call for every channel's values
            stacked = np.stack(columns).astype(np.float64)
            self.staged.update(list(self.prefix(stacked.reshape(-1)).reshape(stacked.shape)))
        sort_pairs(hashes, rows)
        sampled = self.sample.update(hashes, rows, data, [], cut)
        if sampled is None:  # too few distinct rows below the cut: every row's hash
            every = wide_row_hashes(columns)
            order = np.arange(len(every), dtype=np.int64)
            sort_pairs(every, order)  # a radix sort: linear in the rows
            sampled = self.sample.update(every, order, data, [], 2**64)
        self.sample = sampled

    def merge(self, other: ChannelStats) -> ChannelStats:
        """The statistics of the blocks of both; neither changes."""
        if other.dtype is None or self.dtype is None:
            return self if other.dtype is None else other
        if other.dtype != self.dtype:
            raise TypeError(f"cannot merge statistics of {self.dtype} and {other.dtype} values")
        merged = ChannelStats(self.channels, self.prefix, self.exact_limit)
        merged.dtype, merged.rows = self.dtype, self.rows + other.rows
        merged.histogram = self.histogram + other.histogram
        merged.raw = self.raw.merge(other.raw)
        merged.staged = self.staged.merge(other.staged)
        merged.sample = self.sample.merge(other.sample)
        return merged

    def summaries(self) -> list[Summary]:
        """Each channel's summary of its raw values, quantiles included."""
        if self.counted:
            values = np.arange(self.histogram.shape[1], dtype=np.float64)
            return [histogram_summary(values, h, 0, self.exact_limit) for h in self.histogram]
        return [
            replace(Summary.of_moments(m), quantiles=self.sample.column(j, self.exact_limit))
            for j, m in enumerate(self.raw.result())
        ]

    def staged_summaries(self) -> list[Summary]:
        """Each channel's summary of its values after the prefix (its raw values without
        one): what the lock's ``standard`` step is fitted on."""
        if self.prefix is None:
            return self.summaries()
        if self.counted:
            values = self.prefix(np.arange(self.histogram.shape[1], dtype=np.float64))
            nan = [int(h[np.isnan(values)].sum()) for h in self.histogram]
            return [
                histogram_summary(values, h, n, self.exact_limit)
                for h, n in zip(self.histogram, nan, strict=True)
            ]
        return [Summary.of_moments(m) for m in self.staged.result()]
