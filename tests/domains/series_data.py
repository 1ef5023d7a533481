"""Generated panels for the series-lock tests: many series on very different scales."""

from __future__ import annotations

import numpy as np


def panel(series: int = 3000, seed: int = 0, string_ids: bool = False) -> dict[str, np.ndarray]:
    """``series`` series of 2 to 40 rows each, scales from 1e-6 to 1e9, levels far from 0,
    shuffled: columns ``sensor``, ``t``, ``load`` and ``temp`` (float32)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 41, series)
    ids = np.repeat(np.arange(series) * 7 + 1000, lengths)
    scale = 10.0 ** rng.uniform(-6, 9, series)
    level = rng.normal(0, 50, series)
    load = (level[np.repeat(np.arange(series), lengths)] + rng.normal(0, 1, len(ids))) * scale[
        np.repeat(np.arange(series), lengths)
    ]
    order = rng.permutation(len(ids))
    out = {
        "sensor": ids[order],
        "t": np.concatenate([np.arange(n) for n in lengths])[order],
        "load": load[order],
        "temp": rng.normal(20, 5, len(ids)).astype(np.float32)[order],
    }
    if string_ids:
        out["sensor"] = np.array([f"unit-{i:06d}" for i in out["sensor"]], dtype=object)
    return out
