"""Waveform policies: every clip scaled by its own peak or its own RMS level.

Clips are arrays whose last axis holds the samples (``(samples,)``, ``(channels,
samples)``, ``(batch, channels, samples)``); each row along that axis is a clip.

* ``peak``: ``x / max|x|``, into ``[-1, 1]`` with the peak at exactly ±1 (a silent clip
  stays 0);
* ``rms``: ``x * (target / rms)``, ``rms = sqrt(mean(x**2))`` correctly rounded from the
  exact sum of squares, ``target = 10 ** (level / 20)`` for a level in dBFS (a clip
  whose RMS is below ``epsilon`` is scaled as if it were ``epsilon``).

In float64, rounded once to the output dtype (float32 stays float32).
"""

from __future__ import annotations

import numpy as np

from normlock.stats.exact import UNIT_BITS
from normlock.stats.kernel import Moments
from normlock.stats.rounding import sqrt_ratio_to_float

POLICIES = ("peak", "rms")


def rms(x: np.ndarray) -> np.ndarray:
    """The correctly rounded RMS of every clip (the last axis kept, of size 1)."""
    rows = x.reshape(-1, x.shape[-1])
    moments = Moments(len(rows))
    if rows.size:
        moments.update(list(rows))
    found = [
        sqrt_ratio_to_float(m.sum_sq_units or 0, m.count << UNIT_BITS) if m.count else 0.0
        for m in moments.result()
    ]
    return np.array(found, dtype=np.float64).reshape(*x.shape[:-1], 1)


def apply(x: np.ndarray, policy: str, level: float, epsilon: float) -> np.ndarray:
    """The policy on float64 clips (float64 out)."""
    if policy == "peak":
        peak = np.abs(x).max(axis=-1, keepdims=True)
        return np.where(peak > 0, x / np.where(peak > 0, peak, 1.0), 0.0)
    return x * (10.0 ** (level / 20.0) / np.maximum(rms(x), epsilon))
