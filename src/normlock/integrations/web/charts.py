"""A feature's history as inline SVG line charts (drawn by :mod:`normlock.monitor.svg`).

The x axis is time since the first window, in hours or days. Past :data:`MAX_POINTS`
windows, each of :data:`MAX_POINTS` // 2 time buckets keeps its lowest and highest value
in time order, so a spike in one window out of 10,000 still shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from normlock.monitor.svg import Series, chart

if TYPE_CHECKING:
    from normlock.registry.catalog import FeatureSeries

SERVED, TRAINING, LIMIT = "#d62728", "#1f77b4", "#888888"
MAX_POINTS = 800

PANELS: tuple[tuple[str, str, str], ...] = (
    ("count", "finite values per window", "values"),
    ("mean", "mean", "mean"),
    ("std", "standard deviation (ddof 0)", "std"),
    ("missing_rate", "missing rate (NaN, inf)", "share of values"),
    ("out_of_range_rate", "out of the training range", "share of finite values"),
    ("psi", "population stability index", "PSI"),
    ("smd", "mean shift in training SDs", "SD"),
    ("wasserstein_sd", "Wasserstein-1 distance in training SDs", "SD"),
)
"""(key, title, y label) of each chart."""


def _envelope(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most :data:`MAX_POINTS` points: per time bucket, its extremes in time order."""
    if x.size <= MAX_POINTS:
        return x, y
    size = -(-x.size // (MAX_POINTS // 2))
    buckets = -(-x.size // size)
    padded = np.full(buckets * size, np.nan)
    padded[: y.size] = y
    grid = padded.reshape(buckets, size)
    present = np.isfinite(grid)
    low = np.where(present, grid, np.inf).argmin(axis=1)
    high = np.where(present, grid, -np.inf).argmax(axis=1)
    offsets = np.arange(buckets) * size
    keep = present.any(axis=1)
    picked = np.stack([offsets + np.minimum(low, high), offsets + np.maximum(low, high)], axis=1)
    index = np.unique(picked[keep].ravel())
    return x[index], y[index]


def _axis(starts: np.ndarray) -> tuple[np.ndarray, str]:
    seconds = (starts - starts[0]) / np.timedelta64(1, "s")
    unit, size = ("days", 86400.0) if seconds[-1] > 2 * 86400 else ("hours", 3600.0)
    first = np.datetime_as_string(starts[0], unit="m").replace("T", " ")
    return seconds / size, f"{unit} since {first} UTC"


def feature_charts(series: FeatureSeries, reference: dict[str, Any] | None) -> list[dict[str, str]]:
    """One chart per panel that has values: ``{"key", "title", "svg"}``."""
    if not len(series):
        return []
    x, x_label = _axis(series.starts)
    found = []
    for key, title, y_label in PANELS:
        y = series.values[key]
        if not np.isfinite(y).any():
            continue
        shown_x, shown_y = _envelope(x, y)
        lines = [Series("served", shown_x, shown_y, SERVED)]
        lines += _references(key, x, reference, series)
        svg = chart(lines, f"{series.feature}: {title}", x_label, y_label)
        found.append({"key": key, "title": title, "svg": svg})
    return found


def _references(
    key: str, x: np.ndarray, reference: dict[str, Any] | None, series: FeatureSeries
) -> list[Series]:
    """Dashed lines: the training mean or std, and PSI's critical value per window."""
    span = np.array([x[0], x[-1]]) if x[-1] > x[0] else np.array([x[0] - 1, x[0] + 1])
    if key in ("mean", "std") and reference is not None and reference.get(key) is not None:
        level = float(reference[key])
        label = f"training (@{reference['version']})"
        return [Series(label, span, np.array([level, level]), TRAINING, dashed=True)]
    limit = series.values["psi_critical"]
    if key == "psi" and np.isfinite(limit).any():
        shown_x, shown_y = _envelope(x, limit)
        return [Series("critical value", shown_x, shown_y, LIMIT, dashed=True)]
    return []
