"""How far the torch and ONNX exports, or numpy on another machine, may differ from
``lock.transform``, value by value.

Arithmetic operations (``sub``, ``add``, ``mul``, ``div``, ``clip``) and the uniform
quantile map are exact: the same bits. The logarithms, the power transforms and the
normal quantile map use each runtime's ``log``, ``pow``, ``exp`` and ``ndtri``, which
may differ from numpy's and SciPy's by a few ulps; :data:`ULPS` says how many, per
runtime. A formula that subtracts nearly equal numbers turns those ulps into a larger
difference, and so does a later step that divides by a small scale. The bound
:func:`allowed_difference` follows each operation of a feature's chain:

* ``log``, ``log1p``, the normal quantile map: ``k`` ulps of the result;
* ``yeo-johnson``: ``k`` ulps of the power ``p = (x + 1) ** lmbda`` (or
  ``(1 - x) ** (2 - lmbda)``) plus one ulp of ``p - 1``, divided by ``|lmbda|`` (or
  ``|2 - lmbda|``), plus one ulp of the result;
* ``box-cox``: ``k`` ulps of ``y = lmbda * log(x)`` times ``exp(y)``, plus ``k`` ulps of
  ``expm1(y)``, divided by ``|lmbda|``, plus one ulp of the result;
* after a difference ``d``: ``x - c`` and ``x + c`` give ``d`` plus one ulp of the result,
  ``x / s`` gives ``d / |s|`` plus one ulp, ``x * m`` gives ``d * |m|`` plus one ulp,
  ``clip`` gives ``d``. A second non-linear step after a difference has no stated bound.

For float32 output the bound is that float64 difference plus one float32 ulp (zero
where the float64 outputs are the same bits).
"""

from __future__ import annotations

import numpy as np

from normlock.chain import FeatureLock, as_float64
from normlock.methods import get_method
from normlock.methods.ops import Op, run

ULPS: dict[str, dict[str, float]] = {
    "log": {"torch": 2, "onnx": 2, "numpy": 4},
    "log1p": {"torch": 2, "onnx": 4, "numpy": 4},
    "yeo-johnson": {"torch": 2, "onnx": 2, "numpy": 4},
    "box-cox": {"torch": 4, "onnx": 4, "numpy": 4},
    "quantile-normal": {"torch": 8, "numpy": 4},
}
"""ulps of each non-linear operation's own result (see the module docstring), per runtime;
``numpy`` is numpy and SciPy on another CPU or build than the one compared with."""

RUNTIMES = ("torch", "onnx", "numpy")
_EPS = float(np.spacing(1.0))


def allowed_difference(
    feature: FeatureLock, x: np.ndarray, runtime: str, dtype: type = np.float64
) -> np.ndarray:
    """Per value of ``x``, the largest ``|export - lock.transform|`` promised.

    Args:
        feature: the locked feature.
        x: input values of the feature (any numeric dtype).
        runtime: ``"torch"``, ``"onnx"`` or ``"numpy"`` (on another CPU or build).
        dtype: the output dtype, ``np.float64`` or ``np.float32``.

    Returns:
        float64 bounds, 0 where the outputs must be the same bits and ``inf`` where no
        bound is stated. NaN inputs get 0 (NaN must stay NaN).
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    values = as_float64(feature.name, np.asarray(x)).copy()
    bound = np.zeros_like(values)
    with np.errstate(all="ignore"):
        for step in feature.steps:
            method = get_method(step.method)
            for op in method.ops(step.params):
                result = run((op,), values) if op.elementwise else method.apply(step.params, values)
                bound = _propagate(op, runtime, values, result, bound)
                values = result
        if dtype == np.float32:
            rounded = values.astype(np.float32)
            bound = np.where(bound > 0, bound + np.spacing(np.abs(rounded)), 0.0)
    return np.where(np.isnan(values), 0.0, bound)


def _propagate(
    op: Op, runtime: str, before: np.ndarray, after: np.ndarray, bound: np.ndarray
) -> np.ndarray:
    """The bound after ``op``, from the bound before it."""
    ulp = np.spacing(np.abs(after))
    differs = bound > 0
    if op.exact:
        if op.kind in ("sub", "add"):
            carried = bound
        elif op.kind == "div":
            carried = bound / abs(op.args[0])
        elif op.kind == "mul":
            carried = bound * abs(op.args[0])
        else:
            return bound
        return np.where(differs, carried + ulp, 0.0)
    own = own_difference(op, op_ulps(op, runtime), before, after)
    return np.where(differs, np.inf, own)


def op_ulps(op: Op, runtime: str | None) -> float:
    """The ulps :data:`ULPS` states for a non-linear operation in ``runtime`` (``inf`` for
    a runtime that lacks it); ``runtime=None``: the largest over all runtimes."""
    key = "quantile-normal" if op.kind == "quantile" else op.kind
    table = ULPS[key]
    return max(table.values()) if runtime is None else table.get(runtime, np.inf)


def own_difference(op: Op, k: float, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The difference a non-linear operation makes on identical input ``x`` (result
    ``w``) when a runtime's ``log``, ``pow``, ``exp`` or ``ndtri`` is within ``k`` ulps
    (see the module docstring)."""
    ulp = np.spacing(np.abs(w))
    if op.kind == "quantile":
        normal = op.args[2] == "normal"
        return k * ulp if normal else np.zeros_like(w)
    if op.kind in ("log", "log1p"):
        return k * ulp
    if op.kind == "yeo-johnson":
        return _power_form(op, k, x, w)
    return _exponential_form(op, k, x, w)


def other_form_difference(op: Op, k: float, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """For a power transform, the difference its other textbook form makes: Yeo-Johnson
    as ``expm1(a * log1p(x)) / a`` (SciPy's form) and Box-Cox as ``(x ** a - 1) / a``,
    each within ``k`` ulps as in :func:`own_difference`."""
    if op.kind == "yeo-johnson":
        return _exponential_form(op, k, x, w)
    return _power_form(op, k, x, w)


def _base_exponent(op: Op, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(base, a, near_log)``: the transform is ``(base ** a - 1) / a`` (negated for
    Yeo-Johnson's negative inputs), ``log(base)`` where ``near_log``."""
    lmbda = op.args[0]
    if op.kind == "box-cox":
        exponent = np.full_like(x, lmbda)
        return x, exponent, np.full(x.shape, abs(lmbda) < 1e-19)
    positive = x >= 0
    base = np.where(positive, 1 + x, 1 - x)
    exponent = np.where(positive, lmbda, 2 - lmbda)
    near_log = np.where(positive, abs(lmbda) < _EPS, abs(lmbda - 2) <= _EPS)
    return base, exponent, near_log


def _power_form(op: Op, k: float, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``k`` ulps of ``p = base ** a`` plus one ulp of ``p - 1``, over ``|a|``."""
    _, exponent, near_log = _base_exponent(op, x)
    ulp = np.spacing(np.abs(w))
    shifted = exponent * np.abs(w)  # p - 1
    spread = k * np.spacing(np.abs(shifted + 1)) + np.spacing(np.abs(shifted))
    spread = spread / np.maximum(np.abs(exponent), _EPS) + ulp
    return np.where(near_log, k * ulp, spread)


def _exponential_form(op: Op, k: float, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``k`` ulps of ``y = a * log(base)`` times ``exp(y)``, plus ``k`` ulps of
    ``expm1(y)``, over ``|a|``."""
    base, exponent, near_log = _base_exponent(op, x)
    ulp = np.spacing(np.abs(w))
    y = exponent * np.log(base)
    spread = k * (np.exp(y) * np.spacing(np.abs(y)) + np.spacing(np.abs(np.expm1(y))))
    spread = spread / np.maximum(np.abs(exponent), 1e-19) + ulp
    return np.where(near_log, k * ulp, spread)
