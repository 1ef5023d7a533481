"""The demo's generated table and the files it writes: splits, a serving step, a served batch.

An online shop's orders: customer features in their own units (years, currency, a click
rate, seconds, kilograms, kilometres) and a regression target, the order's value. Seeded;
no network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

TARGET = "order_value"
"""The regression target: an amount (standardized, as any target by default)."""

SPEC = {
    "age": "standard",
    "income": ["log1p", "standard"],
    "ctr": {"method": "minmax", "clip": True},
    "session_seconds": "robust",
    "parcel_kg": "standard",
    "distance_km": "yeo-johnson",
    "customer_id": "passthrough",
}
"""The demo's spec (written to ``spec.yaml``): one line per feature."""

UNIT_MISTAKE = ("parcel_kg", 1000.0)
"""The served batch carries this feature in grams: its kilograms times 1000."""

BY_HAND = "age"
"""The feature the serving step standardizes by hand, with the sample std."""

SERVING_SOURCE = f'''"""The serving step, as a team re-implemented it (written by `normlock demo`).

It applies the lock, except for `{BY_HAND}`, standardized by hand with statistics recomputed
from the training file: numpy's sample std (ddof=1, pandas' `.std()` default), where the
lock uses the population std (ddof=0).
"""

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

import normlock as nl

HERE = Path(__file__).parent
LOCK = nl.load(HERE / "model.normlock.json")
_VALUES = pq.read_table(HERE / "train.parquet", columns=["{BY_HAND}"])["{BY_HAND}"].to_numpy()
MEAN, STD = float(np.mean(_VALUES)), float(np.std(_VALUES, ddof=1))


def normalize(columns: dict) -> dict:
    """Model inputs from a dict of columns (computed in float64, returned in their dtype)."""
    out = LOCK.transform(columns)
    x = np.asarray(columns["{BY_HAND}"])
    out["{BY_HAND}"] = ((x.astype(np.float64) - MEAN) / STD).astype(x.dtype)
    return out
'''


def make_table(rows: int, seed: int) -> dict[str, np.ndarray]:
    """Orders with skewed, bounded and heavy-tailed columns and their value."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.8, 0.6, rows).round(2)
    parcel = rng.gamma(2.5, 1.2, rows).round(3)
    distance = rng.gamma(1.5, 40.0, rows).round(1)
    noise = rng.lognormal(0.0, 0.25, rows)
    value = (9.0 + 6.5 * parcel + 0.04 * distance + income / 4000) * noise
    return {
        "customer_id": np.array([f"c{seed}-{i:06d}" for i in range(rows)]),
        "age": rng.normal(41.0, 12.0, rows).clip(18, 95).round(),
        "income": income,
        "ctr": rng.beta(2.0, 30.0, rows),
        "session_seconds": rng.standard_t(3, rows) * 40 + 300,
        "parcel_kg": parcel,
        "distance_km": distance,
        TARGET: value.round(2),
    }


@dataclass(frozen=True)
class Files:
    """Where the demo writes each file."""

    train: Path
    test: Path
    served: Path
    spec: Path
    serving: Path
    lock: Path
    leaky: Path
    report: Path
    registry: Path

    @classmethod
    def under(cls, folder: Path) -> Files:
        """The demo's files in ``folder``."""
        return cls(
            train=folder / "train.parquet",
            test=folder / "test.parquet",
            served=folder / "served.parquet",
            spec=folder / "spec.yaml",
            serving=folder / "serving.py",
            lock=folder / "model.normlock.json",
            leaky=folder / "leaky.normlock.json",
            report=folder / "monitor.html",
            registry=folder / "registry.sqlite3",
        )


def write_inputs(files: Files, train_rows: int, test_rows: int, served_rows: int) -> None:
    """Train and test splits of one table, a served batch (no target) whose
    :data:`UNIT_MISTAKE` column arrives in grams, the spec and the serving step."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    table = make_table(train_rows + test_rows, seed=1)
    pq.write_table(pa.table({k: v[:train_rows] for k, v in table.items()}), files.train)
    pq.write_table(pa.table({k: v[train_rows:] for k, v in table.items()}), files.test)
    served = make_table(served_rows, seed=2)
    del served[TARGET]
    name, factor = UNIT_MISTAKE
    served[name] = served[name] * factor
    pq.write_table(pa.table(served), files.served)
    files.spec.write_text(yaml.safe_dump(SPEC, sort_keys=False), encoding="utf-8")
    files.serving.write_text(SERVING_SOURCE, encoding="utf-8")
