"""Domain locks against the usual numpy / pandas code, on one machine.

    python bench/domains.py [--series 1000000] [--rows-per-series 10] [--images 128]

Prints a Markdown table (the BENCHMARKS.md "Domains" section): image fit (exact pooled
per-channel statistics) against numpy's per-channel mean and std, image transform
against the numpy formula, series fit against a pandas groupby, the million-series
lock's size and load time, its transform joined by id on grouped and on shuffled rows
against a pandas ``map``, and spectrogram fit against numpy. Every time is the best of
three; peak memory is what ``tracemalloc`` saw during the call.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import normlock as nl
from normlock.domains import audio, images, series


def best(function: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """The best wall time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def peak_mb(function: Callable[[], Any]) -> float:
    """Peak memory traced during one call, in MB."""
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def image_rows(count: int) -> list[tuple[str, str, float, float]]:
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (count, 224, 224, 3), dtype=np.uint8)
    pixels = batch.size // 3
    fit_s, lock = best(lambda: images.fit(batch, layout="NHWC"))

    def numpy_stats() -> Any:
        flat = batch.reshape(-1, 3).astype(np.float64) / 255
        return flat.mean(axis=0), flat.std(axis=0)

    numpy_s, _ = best(numpy_stats)
    mean, std = (np.array(v) for v in numpy_stats())
    transform_s, _ = best(lambda: lock.transform(batch))
    formula_s, _ = best(lambda: ((batch / 255.0 - mean) / std).astype(np.float32))
    floats = batch.astype(np.float32) / 255
    float_s, _ = best(lambda: images.fit(floats, layout="NHWC"))
    float_numpy_s, _ = best(lambda: (floats.reshape(-1, 3).mean(0), floats.reshape(-1, 3).std(0)))
    label = f"{count} x 224x224x3"
    return [
        ("image fit, uint8 (exact pooled mean/std)", label, fit_s, numpy_s),
        ("image fit, float32 in [0, 1]", label, float_s, float_numpy_s),
        ("image transform, uint8 -> float32", label, transform_s, formula_s),
        ("(pixels per second, fit uint8)", f"{pixels:,} pixels", pixels / fit_s, pixels / numpy_s),
    ]


def series_rows(count: int, per: int) -> list[tuple[str, str, float, float]]:
    rng = np.random.default_rng(1)
    ids = np.repeat(np.arange(count, dtype=np.int64) * 3 + 11, per)
    values = rng.normal(5, 1, count * per) * np.repeat(10.0 ** rng.uniform(-3, 6, count), per)
    panel = {"sensor": ids, "load": values}
    frame = pd.DataFrame(panel)
    rows = len(ids)
    fit_s, lock = best(lambda: series.fit(panel, id="sensor"), repeat=1)
    pandas_s, _ = best(lambda: frame.groupby("sensor")["load"].agg(["mean", "std"]), repeat=1)
    memory = peak_mb(lambda: series.fit(panel, id="sensor"))
    folder = Path(tempfile.mkdtemp())
    path = lock.save(folder / "series.normlock.json")
    load_s, loaded = best(lambda: nl.load(path))
    grouped_s, _ = best(lambda: loaded.transform(panel))
    stats = frame.groupby("sensor")["load"].agg(["mean", "std"])

    def pandas_join(rows_of: pd.DataFrame) -> Any:
        mean = rows_of["sensor"].map(stats["mean"])
        std = rows_of["sensor"].map(stats["std"])
        return (rows_of["load"] - mean) / std

    pandas_grouped_s, _ = best(lambda: pandas_join(frame))
    order = rng.permutation(rows)
    shuffled = {k: v[order] for k, v in panel.items()}
    shuffled_frame = pd.DataFrame(shuffled)
    shuffled_s, _ = best(lambda: loaded.transform(shuffled))
    pandas_shuffled_s, _ = best(lambda: pandas_join(shuffled_frame))
    label = f"{count:,} series x {per}"
    size = path.stat().st_size / 1e6
    return [
        ("series fit (exact per-series mean/std)", label, fit_s, pandas_s),
        (
            f"(series fit peak memory, MB; input {values.nbytes * 2 / 1e6:.0f} MB)",
            label,
            memory,
            float("nan"),
        ),
        (f"series lock load ({size:.0f} MB file)", f"{count:,} series", load_s, float("nan")),
        ("series transform, rows grouped by series", f"{rows:,} rows", grouped_s, pandas_grouped_s),
        ("series transform, rows shuffled", f"{rows:,} rows", shuffled_s, pandas_shuffled_s),
        (
            "(rows per second, grouped / shuffled)",
            f"{rows:,} rows",
            rows / grouped_s,
            rows / shuffled_s,
        ),
    ]


def audio_rows(clips: int) -> list[tuple[str, str, float, float]]:
    from scipy.signal import spectrogram

    rng = np.random.default_rng(2)
    spectrograms = [
        spectrogram(rng.normal(size=int(n)), nperseg=256)[2]
        for n in rng.integers(20_000, 80_000, clips)
    ]
    fit_s, _ = best(lambda: audio.fit(spectrograms, scale="db"))

    def numpy_stats() -> Any:
        frames = np.concatenate([10 * np.log10(s + 1e-10) for s in spectrograms], axis=1)
        return frames.mean(axis=1), frames.std(axis=1)

    numpy_s, _ = best(numpy_stats)
    frames = sum(s.shape[1] for s in spectrograms)
    return [
        (
            "spectrogram fit, per bin (dB)",
            f"{clips} clips, {frames:,} frames x 129 bins",
            fit_s,
            numpy_s,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1_000_000)
    parser.add_argument("--rows-per-series", type=int, default=10)
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--clips", type=int, default=64)
    options = parser.parse_args()
    rows = image_rows(options.images) + audio_rows(options.clips)
    rows += series_rows(options.series, options.rows_per_series)
    print("| case | data | normlock | numpy / pandas | ratio |")
    print("|---|---|---|---|---|")
    for case, data, ours, theirs in rows:
        if case.startswith("("):
            other = "" if np.isnan(theirs) else f"{theirs:,.3g}"
            print(f"| {case} | {data} | {ours:,.3g} | {other} | |")
            continue
        other = "" if np.isnan(theirs) else f"{theirs:.3f} s"
        ratio = "" if np.isnan(theirs) else f"{theirs / ours:.2f}x"
        print(f"| {case} | {data} | {ours:.3f} s | {other} | {ratio} |")


if __name__ == "__main__":
    main()
