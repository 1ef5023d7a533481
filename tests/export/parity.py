"""Locks, inputs and comparisons shared by the export tests."""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import normlock as nl

AFFINE_SPEC = {
    "standard": "standard",
    "sample_std": {"method": "standard", "ddof": 1},
    "centered": {"method": "standard", "with_std": False},
    "offset": "standard",
    "minmax": "minmax",
    "minmax_range": {"method": "minmax", "feature_range": [-1, 3]},
    "minmax_clip": {"method": "minmax", "clip": True},
    "minmax_range_clip": {"method": "minmax", "feature_range": [-0.5, 0.25], "clip": True},
    "maxabs": "maxabs",
    "robust": "robust",
    "robust_unit": {"method": "robust", "quantile_range": [10, 90], "unit_variance": True},
    "clipped": {"steps": [{"method": "clip", "lower_percentile": 1, "upper": 40.0}, "standard"]},
    "constant": "standard",
    "id": "passthrough",
}
"""Every affine method and option, including a chain and a passthrough column."""

NONLINEAR_SPEC = {
    "log": {"method": "log", "offset": 1.0},
    "log1p": ["log1p", "standard"],
    "yeo_johnson": "yeo-johnson",
    "yeo_johnson_raw": {"method": "yeo-johnson", "standardize": False},
    "box_cox": "box-cox",
    "box_cox_raw": {"method": "box-cox", "standardize": False},
    "quantile": {"method": "quantile", "n_quantiles": 200},
    "quantile_normal": {"method": "quantile", "output_distribution": "normal"},
    "db": ["db", "standard"],
}
"""Every non-linear method; box-cox and log columns are positive."""

POSITIVE = ("log", "log1p", "box_cox", "box_cox_raw", "db")


def _training(names: list[str], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 1500
    data = {}
    for i, name in enumerate(names):
        if name in POSITIVE:
            data[name] = rng.lognormal(i % 3 - 1, 0.8, n)
        elif name == "offset":
            data[name] = 1e6 + rng.normal(0.0, 1e-3, n)  # reciprocal-multiply shows here
        elif name == "constant":
            data[name] = np.full(n, 2.5)
        else:
            data[name] = rng.normal(i - 4, 1 + i, n) * rng.choice([1.0, 1.0, 4.0], n)
    return data


def fitted(spec: dict, seed: int = 5) -> tuple[nl.Lock, dict[str, np.ndarray]]:
    """A lock fitted on seeded data for ``spec``, and that data."""
    data = _training(list(spec), seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        return nl.fit(data, spec), data


def inputs(lock: nl.Lock, data: dict[str, np.ndarray], seed: int = 7) -> np.ndarray:
    """Rows to compare runtimes on: every probe, the training rows, new draws beyond the
    training range, NaN, ±0.0; positive where a column's domain needs it. float64."""
    rng = np.random.default_rng(seed)
    probes = lock.probes()
    longest = max(len(p["input"]) for p in probes.values())
    columns = []
    for name in lock.columns:
        train = data[name]
        probe = np.array(probes[name]["input"]) if name in probes else train[:longest]
        probe = np.resize(probe, longest)
        spread = (np.max(train) - np.min(train)) or 1.0
        draws = rng.uniform(np.min(train) - 0.5 * spread, np.max(train) + 0.5 * spread, 1000)
        special = np.array([np.nan, 0.0, -0.0, np.min(train), np.max(train)])
        column = np.concatenate([probe, train, draws, special])
        if name in POSITIVE:
            column = np.where(column > 0, column, np.abs(column) + 1e-3)
        columns.append(column)
    return np.column_stack(columns)


def probe_matrix(lock: nl.Lock, key: str) -> tuple[np.ndarray, np.ndarray]:
    """The lock's stored probe inputs and expected outputs, one column per feature
    (``key`` is ``"float64"`` or ``"float32"``); shorter columns repeat, and passthrough
    columns hold their position."""
    probes = lock.probes()
    for position, name in enumerate(lock.passthrough):
        same = [float(position)]
        probes[name] = {"input": same, "input_float32": same, "float64": same, "float32": same}
    source = "input" if key == "float64" else "input_float32"
    longest = max(len(p[source]) for p in probes.values())
    dtype = np.float64 if key == "float64" else np.float32
    ins, outs = [], []
    for name in lock.columns:
        ins.append(np.resize(np.array(probes[name][source], dtype=dtype), longest))
        outs.append(np.resize(np.array(probes[name][key], dtype=dtype), longest))
    return np.column_stack(ins), np.column_stack(outs)


def assert_same_bits(actual: np.ndarray, expected: np.ndarray, names=None) -> None:
    """Same dtype, shape, NaN positions and bits (so ``-0.0`` differs from ``0.0``)."""
    actual = np.asarray(actual)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(actual), nan), "NaN positions differ"
    view = np.uint64 if expected.dtype == np.float64 else np.uint32
    same = actual.view(view) == expected.view(view)
    bad = ~same & ~nan
    if bad.any():
        rows, cols = np.nonzero(bad)
        where = sorted({(names or range(expected.shape[1]))[c] for c in cols})
        raise AssertionError(
            f"{int(bad.sum())} values differ, in columns {where}; first at row {rows[0]}: "
            f"{actual[rows[0], cols[0]]!r} vs {expected[rows[0], cols[0]]!r}"
        )


LEVELS = {
    "disable_all": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}
"""ONNX Runtime's graph optimization levels, by name."""


def session(model: onnx.ModelProto, level: str = "all") -> ort.InferenceSession:
    """An ONNX Runtime CPU session of ``model`` at the named optimization level."""
    options = ort.SessionOptions()
    options.graph_optimization_level = LEVELS[level]
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def run_onnx(model: onnx.ModelProto, feeds: dict[str, np.ndarray], level: str = "all"):
    """Outputs of ``model`` in ONNX Runtime at the named optimization level."""
    return session(model, level).run(None, feeds)


def normalize_onnx(
    model: onnx.ModelProto, feeds: dict[str, np.ndarray], level: str = "all"
) -> np.ndarray:
    """The output of a lock's graph, which must flag no value as invalid."""
    out, invalid = run_onnx(model, feeds, level)
    assert invalid.dtype == bool and invalid.shape == out.shape
    assert not invalid.any(), f"{int(invalid.sum())} value(s) flagged"
    return out


def rejected(lock: nl.Lock, x: np.ndarray) -> np.ndarray:
    """Per value, whether its feature's ``apply`` (``lock.transform``'s path) rejects it
    on its own."""
    mask = np.zeros(x.shape, dtype=bool)
    for j, name in enumerate(lock.columns):
        if name not in lock.feature_names:
            continue
        for i in range(x.shape[0]):
            try:
                lock.feature(name).apply(x[i : i + 1, j])
            except nl.DomainError:
                mask[i, j] = True
    return mask


def reference(lock: nl.Lock, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``lock.transform``'s outputs where it keeps a value (its rejected values replaced
    by an accepted one), and the rejected values; ``transform`` of ``x`` raises iff
    any is rejected."""
    mask = rejected(lock, x)
    if mask.any():
        with pytest.raises(nl.DomainError):
            lock.transform(x)
    return lock.transform(np.where(mask, x.dtype.type(1.0), x)), mask


def kept(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``values`` with 0 where ``mask`` is set (where outputs are unspecified)."""
    return np.where(mask, values.dtype.type(0), values)
