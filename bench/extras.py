"""The cases off the size curve: one-row transforms, the quantile sample's update rate, a
Parquet fit against Polars, and the fit + apply of a file larger than memory should need."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from common import MemoryRow, Row, Target, faster_by, median_time, peak_run, row, within

import normlock as nl

DATA = Path(__file__).resolve().parent / "data"


def one_row_cases(repeat: int) -> list[Row]:
    """One row of 32 features, as a 1-D array and as a dict, against sklearn's 1-row array."""
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(1).normal(3.0, 2.0, size=(10_000, 32))
    lock, scaler = nl.fit(X), StandardScaler().fit(X)
    one = X[0]
    as_dict = {f"x{i}": float(v) for i, v in enumerate(one)}
    theirs = median_time(lambda: scaler.transform(one.reshape(1, -1)), repeat)
    anchor = "sklearn transform, 1-row array"
    return [
        row(f"transform one row ({kind})", "32 features", 1, ours, anchor, theirs, faster_by(8))
        for kind, ours in (
            ("1-D array", median_time(lambda: lock.transform(one), repeat)),
            ("dict", median_time(lambda: lock.transform(as_dict), repeat)),
        )
    ]


def sketch_cases(repeat: int) -> list[Row]:
    """Updates of the quantile sample with 10M values in 100 chunks: >= 20M values/s."""
    from normlock.stats import QuantileStore

    values = np.random.default_rng(2).lognormal(0.0, 2.0, 10_000_000)
    chunks = np.array_split(values, 100)

    def update() -> QuantileStore:
        store = QuantileStore(limit=0)
        for chunk in chunks:
            store = store.update(chunk)
        return store

    seconds = median_time(update, repeat)
    store = update()
    ordered = np.sort(values)
    probabilities = np.linspace(0.01, 0.99, 99)
    answers = store.quantiles(probabilities)
    low = np.searchsorted(ordered, answers, side="left") / values.size
    high = np.searchsorted(ordered, answers, side="right") / values.size
    error = float(np.max(np.maximum(0.0, np.maximum(low - probabilities, probabilities - high))))
    rate = values.size / seconds
    note = f"{rate / 1e6:.0f}M values/s; max rank error {error:.4f} (bound {store.rank_error:.4f})"
    return [
        row(
            "quantile sample update (1 core)",
            "float64 in 100 chunks",
            values.size,
            seconds,
            "20M values/s",
            values.size / 20e6,
            Target(1, ">= 20M values/s"),
            note,
        )
    ]


def parquet_file(rows: int, columns: int, name: str) -> Path:
    """A cached zstd Parquet file of float64 columns, written group by group."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = DATA / name
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(rows)
    schema = pa.schema([(f"x{i}", pa.float64()) for i in range(columns)])
    group = 1_000_000
    temporary = path.with_suffix(".tmp")
    with pq.ParquetWriter(temporary, schema, compression="zstd") as writer:
        for start in range(0, rows, group):
            n = min(group, rows - start)
            block = rng.normal(50.0, 10.0, size=(n, columns)).round(6)
            writer.write_table(
                pa.table({f"x{i}": block[:, i] for i in range(columns)}, schema=schema)
            )
    temporary.rename(path)
    return path


def parquet_cases(repeat: int) -> list[Row]:
    """Fit standard + min-max from a 10M x 32 Parquet file, against Polars' scan of it."""
    import polars as pl

    from normlock.io.files import batch_source

    path = parquet_file(10_000_000, 32, "fit_10M_x32_f64_zstd.parquet")
    spec = {f"x{i}": ("standard" if i % 2 == 0 else "minmax") for i in range(32)}
    ours = median_time(lambda: nl.fit(batch_source([path]), spec), repeat)

    def polars_stats() -> object:
        exprs = [
            getattr(pl.col(f"x{i}"), stat)().alias(f"x{i}_{stat}")
            for i in range(32)
            for stat in ("mean", "std", "min", "max")
        ]
        return pl.scan_parquet(path).select(exprs).collect()

    theirs = median_time(polars_stats, repeat)
    data = f"Parquet float64, {path.stat().st_size / 1e9:.2f} GB zstd"
    anchor = "polars scan_parquet mean/std/min/max"
    return [row("fit standard+min-max", data, 10_000_000, ours, anchor, theirs, within(1.5))]


def large_case() -> list[MemoryRow]:
    """``normlock fit`` and ``normlock apply`` of a 5.8 GB Parquet file: peak RSS <= 1 GB."""
    path = parquet_file(24_000_000, 32, "large_24M_x32_f64_zstd.parquet")
    lock, out = DATA / "large.normlock.json", DATA / "large_out.parquet"
    fit_s, fit_mb = peak_run("fit", str(path), "-o", str(lock))
    apply_s, apply_mb = peak_run("apply", str(lock), str(path), "-o", str(out))
    out.unlink(missing_ok=True)
    data = f"Parquet float64, {path.stat().st_size / 1e9:.1f} GB zstd"
    return [
        MemoryRow(
            f"normlock {command} (CLI)",
            data,
            24_000_000,
            "peak RSS",
            mb,
            1024.0,
            mb <= 1024,
            f"{seconds:.0f} s",
        )
        for command, seconds, mb in (("fit", fit_s, fit_mb), ("apply", apply_s, apply_mb))
    ]
