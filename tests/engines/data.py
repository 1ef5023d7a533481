"""Training frames and specs shared by the engine tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

SPEC = {
    "offset": "standard",
    "ramp": "minmax",
    "heavy": "robust",
    "ranked": {"method": "quantile", "n_quantiles": 50},
    "skewed": ["log1p", "standard"],
}

EXACT_ROWS = 3_000
SAMPLED_ROWS = 150_000
"""More distinct rows than the sample holds (65,536): reference quantiles are sampled."""


def training_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Columns for every spec entry, with NaNs and repeated rows, and a passthrough id."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "offset": 1e12 + rng.normal(0, 1e-3, rows),
            "ramp": np.linspace(-1e8, 1e8 + 1, rows),
            "heavy": rng.standard_cauchy(rows),
            "ranked": rng.normal(size=rows).astype(np.float32),
            "skewed": rng.lognormal(3, 2, rows),
        }
    )
    repeats = rng.integers(0, rows, rows // 10)
    for name in SPEC:
        values = frame[name].to_numpy(copy=True)
        values[repeats] = values[repeats[::-1]]
        values[rng.integers(0, rows, rows // 100)] = np.nan
        frame[name] = values
    return frame


def full_spec() -> dict[str, object]:
    return {**SPEC, "id": "passthrough"}


def shuffled(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtypes, NaN at the same places, and the same bits everywhere else."""
    both = ~np.isnan(a)
    return (
        a.dtype == b.dtype
        and np.array_equal(np.isnan(a), np.isnan(b))
        and a[both].tobytes() == b[both].tobytes()
    )
