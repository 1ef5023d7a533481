"""A layer's running statistics against the statistics a sample batch produces there.

The sample's per-channel mean and variance at a layer's input (over the batch and every
spatial position) are compared with the layer's running mean and variance. A channel is
far when its difference is large (an effect-size floor: ``mean_shift`` standard
deviations, or a variance ``variance_ratio`` times off) *and* larger than the sample's
own estimation error allows (``z`` standard errors), so a small sample cannot raise a
false alarm. The standard errors count the sample's rows, not its values (the positions
of one image are not independent draws): the mean's is that of the rows' own means, and
a sample of fewer than ``sample_rows`` rows is not compared at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from normlock.audit.findings import Thresholds
from normlock.audit.layers import RunningStats


@dataclass(frozen=True)
class ChannelStats:
    """Per-channel statistics of the values a layer received.

    Attributes:
        mean: per channel, float64.
        var: per channel, population variance, float64.
        count: values per channel (batch rows times spatial positions).
        rows: the batch's rows.
        mean_error: per channel, the standard error of ``mean`` from the spread of the
            rows' own means.
    """

    mean: np.ndarray
    var: np.ndarray
    count: int
    rows: int
    mean_error: np.ndarray


def channel_stats(x: np.ndarray, axis: int = 1) -> ChannelStats:
    """The statistics of ``x`` per index along ``axis`` (the channels), in float64."""
    moved = np.moveaxis(np.asarray(x, dtype=np.float64), axis, 0)
    rows = int(moved.shape[1]) if moved.ndim > 1 else 1
    per_row = moved.reshape(moved.shape[0], rows, -1).mean(axis=2)
    error = per_row.std(axis=1, ddof=1) / np.sqrt(rows) if rows > 1 else np.full(len(moved), np.inf)
    values = moved.reshape(moved.shape[0], -1)
    return ChannelStats(values.mean(axis=1), values.var(axis=1), values.shape[1], rows, error)


def far_channels(
    running: RunningStats, sample: ChannelStats, eps: float, thresholds: Thresholds
) -> dict[str, Any] | None:
    """Evidence when some channels' running statistics are far from the sample's, else None.

    Returns:
        ``channels`` (flagged count), ``of`` (all channels), ``values_per_channel``, and
        the worst channel's ``channel``, running and sample ``mean``/``var`` and their
        distance ``mean_shift_sd`` and ``variance_ratio``.
    """
    if running.mean.shape != sample.mean.shape or sample.rows < thresholds.sample_rows:
        return None
    spread = np.sqrt(sample.var + eps)
    shift = np.abs(running.mean - sample.mean) / spread
    shift_error = sample.mean_error / spread
    with np.errstate(divide="ignore"):
        log_ratio = np.abs(np.log((running.var + eps) / (sample.var + eps)))
    log_error = math.sqrt(2.0 / (sample.rows - 1))
    mean_far = (shift > thresholds.mean_shift) & (shift > thresholds.z * shift_error)
    var_far = (log_ratio > math.log(thresholds.variance_ratio)) & (
        log_ratio > thresholds.z * log_error
    )
    far = mean_far | var_far
    if not far.any():
        return None
    badness = np.where(far, np.maximum(shift, log_ratio), -1.0)
    worst = int(np.argmax(badness))
    return {
        "channels": int(far.sum()),
        "of": int(far.size),
        "values_per_channel": sample.count,
        "channel": worst,
        "running_mean": float(running.mean[worst]),
        "running_var": float(running.var[worst]),
        "sample_mean": float(sample.mean[worst]),
        "sample_var": float(sample.var[worst]),
        "mean_shift_sd": float(shift[worst]),
        "variance_ratio": float((running.var[worst] + eps) / (sample.var[worst] + eps)),
    }
