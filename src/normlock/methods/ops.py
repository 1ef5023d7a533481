"""Each method's canonical formula as a short sequence of elementwise operations.

This is the one place a formula is written down. numpy runs it here (:func:`run`);
the torch module and the ONNX graph in :mod:`normlock.export` emit the same
operations, in the same order, with the same float64 constants. A method describes
itself with ``Method.ops(params)``.

Operations (all in float64, left to right):

* ``sub(c)``: ``x - c``; ``add(c)``: ``x + c``; ``mul(c)``: ``x * c``;
* ``div(c)``: ``x / c``, a true division, never ``x * (1 / c)``;
* ``clip(low, high)``: numpy's ``clip``: ``low`` where ``x < low``, ``high`` where
  ``x > high``, else ``x`` itself (so NaN stays NaN and ``-0.0`` stays ``-0.0`` at a
  bound of ``0.0``); a bound of ±inf is no bound, and a bound of ``-0.0`` is ``0.0``;
* ``log()`` and ``log1p()``: natural logarithms;
* ``yeo-johnson(lmbda)``, ``box-cox(lmbda)`` and ``quantile(quantiles, references,
  distribution)``: the non-linear methods, whose numpy formula lives in their own
  modules (:mod:`normlock.methods.power`, :mod:`normlock.methods.quantile`).

A group of columns (whitening, :mod:`normlock.methods.whitening`) adds one operation
across columns, written here once as :func:`combine`: output ``i`` of a matrix ``W`` is
``((W[i,0] * x0 + W[i,1] * x1) + W[i,2] * x2) + ...``, left to right over the inputs,
every product and every sum rounded to float64 (no fused multiply-add, no reordering),
so it is as exact across runtimes as ``mul`` and ``add`` are.

The arithmetic operations (``sub``, ``add``, ``mul``, ``div``, ``clip``) give
bit-identical results in every runtime that computes IEEE float64. The logarithms and
the non-linear methods depend on each runtime's ``log``, ``pow``, ``exp`` and ``ndtri``
and agree within the tolerances stated in ``docs/exports.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

EXACT = ("sub", "add", "mul", "div", "clip")
"""Arithmetic operations: every runtime computes them exactly as numpy does."""

ELEMENTWISE = (*EXACT, "log", "log1p")
"""Operations that take one constant per feature (or none) and run value by value."""

NONLINEAR = ("yeo-johnson", "box-cox", "quantile")
"""Whole-method operations whose numpy formula lives in the method's module."""

ARGUMENTS = {
    "sub": ("value",),
    "add": ("value",),
    "mul": ("value",),
    "div": ("value",),
    "clip": ("low", "high"),
    "log": (),
    "log1p": (),
    "yeo-johnson": ("lmbda",),
    "box-cox": ("lmbda",),
    "quantile": ("quantiles", "references", "distribution"),
}
"""The names of each operation's arguments, in order (exporters name constants by them)."""

DOMAIN_BOUNDS = {"log": 0.0, "log1p": -1.0, "box-cox": 0.0}
"""Operations with a restricted domain: an input at or below the bound is outside it
(NaN is not). ``lock.transform`` rejects such values; the exports flag them."""


@dataclass(frozen=True)
class Op:
    """One operation of a formula: its kind and its float64 constants.

    Attributes:
        kind: one of :data:`ELEMENTWISE` or :data:`NONLINEAR`.
        args: the constants, in the order the module docstring lists them.
    """

    kind: str
    args: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "clip":  # runtimes disagree on which zero a clip to -0.0 gives
            object.__setattr__(self, "args", tuple(float(bound) + 0.0 for bound in self.args))

    @property
    def elementwise(self) -> bool:
        """Whether the operation runs value by value with per-feature constants."""
        return self.kind in ELEMENTWISE

    @property
    def exact(self) -> bool:
        """Whether every runtime gives numpy's bits for this operation."""
        return self.kind in EXACT


def affine(center: float, scale: float) -> tuple[Op, ...]:
    """``(x - center) / scale``: the formula of standard, robust and max-abs scaling."""
    return (Op("sub", (center,)), Op("div", (scale,)))


def linear_map(ops: tuple[Op, ...]) -> tuple[float, float] | None:
    """``(a, b)`` with ``ops(x) == a * x + b`` in exact arithmetic when every operation is
    ``sub``/``add``/``mul``/``div`` (for reasoning about a formula, not for computing it);
    None otherwise."""
    a, b = 1.0, 0.0
    for op in ops:
        if op.kind not in ("sub", "add", "mul", "div"):
            return None
        c = float(op.args[0])
        if op.kind == "sub":
            b -= c
        elif op.kind == "add":
            b += c
        elif op.kind == "mul":
            a, b = a * c, b * c
        else:
            a, b = a / c, b / c
    return a, b


def run(ops: tuple[Op, ...], x: np.ndarray) -> np.ndarray:
    """Run elementwise operations on a float64 array with numpy (the reference)."""
    for op in ops:
        x = _NUMPY[op.kind](x, *op.args)
    return x


COMBINE_ROWS = 8192
"""Rows :func:`combine` computes at a time (its partial sums stay in cache)."""


def combine(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The canonical product of a float64 ``(rows, inputs)`` array and a ``(outputs,
    inputs)`` matrix: ``out[:, i] = ((W[i,0] * x[:,0] + W[i,1] * x[:,1]) + ...)``, left to
    right, each product and sum rounded once (never a BLAS matmul, whose summation order is
    its own). A NaN or infinity among a row's inputs reaches every output of the row."""
    rows, inputs = x.shape
    out = np.empty((rows, matrix.shape[0]))
    for start in range(0, rows, COMBINE_ROWS):
        part = x[start : start + COMBINE_ROWS]
        acc = out[start : start + COMBINE_ROWS]
        np.multiply(part[:, :1], matrix[:, 0], out=acc)
        for j in range(1, inputs):
            acc += part[:, j : j + 1] * matrix[:, j]
    return out


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


def _log1p(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log1p(x)


_NUMPY = {
    "sub": lambda x, c: x - c,
    "add": lambda x, c: x + c,
    "mul": lambda x, c: x * c,
    "div": lambda x, c: x / c,
    "clip": lambda x, low, high: np.clip(x, low, high),
    "log": _log,
    "log1p": _log1p,
}
