"""ONNX nodes for each operation of :mod:`normlock.methods.ops`, in double precision.

Each emitter takes the name of a double tensor whose last axis holds a group's features
and returns the name of the result. Constants are never folded into the operators, and
every operation is the one numpy runs, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from onnx import NodeProto, TensorProto, helper, numpy_helper

from normlock.export.plan import Stage
from normlock.methods.ops import ARGUMENTS

_EPS = float(np.spacing(1.0))


class GraphBuilder:
    """Collects nodes and initializers; every name it makes starts with ``normlock/``.

    A lock's parameters (the stage arguments) are slices of one double vector that
    passes through a node fed by the graph input (a ``Concat`` with an empty slice of
    it), so no optimizer sees them as constants. ONNX Runtime's no-op elimination would
    otherwise drop ``x / s`` when a one-value ``s`` rounds to 1.0 in float32, and
    ``x - c`` or ``x + c`` when ``c`` rounds to 0.0, which changes results (``std =
    1.00000001``, ``mean = -0.0``). Fixed numbers (``1.0`` in ``log1p``) are plain
    initializers: none of them is an operand such a rule removes.
    """

    def __init__(self) -> None:
        self.nodes: list[NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._parameters: list[tuple[str, np.ndarray]] = []
        self._count = 0

    def constant(self, value: Any, name: str | None = None) -> str:
        """An initializer: float64, or int64 for integer values, bool for booleans."""
        array = np.asarray(value)
        if array.dtype != np.bool_:
            array = array.astype(np.int64 if array.dtype.kind in "iu" else np.float64)
        full = f"normlock/{name or f'constant{len(self.initializers)}'}"
        self.initializers.append(numpy_helper.from_array(array, full))
        return full

    def parameter(self, values: Any, name: str) -> str:
        """A lock parameter (a float64 vector), as its slice of the parameter vector."""
        full = f"normlock/{name}"
        self._parameters.append((full, np.asarray(values, dtype=np.float64).reshape(-1)))
        return full

    def node(self, op_type: str, *inputs: str, output: str | None = None, **attrs: Any) -> str:
        """Add a node; returns its (single) output's name."""
        self._count += 1
        name = output or f"normlock/{op_type.lower()}{self._count}"
        self.nodes.append(
            helper.make_node(op_type, list(inputs), [name], name=f"n{self._count}", **attrs)
        )
        return name

    def rename(self, old: str, new: str) -> None:
        """Give the tensor ``old`` the name ``new`` wherever it appears."""
        for node in self.nodes:
            for names in (node.input, node.output):
                for index, name in enumerate(names):
                    if name == old:
                        names[index] = new

    def seal(self, source: str) -> None:
        """Put the nodes that produce the parameters, from graph input ``source``, first."""
        if not self._parameters:
            return
        emitted = self.nodes
        self.nodes = []
        vector = self.constant(np.concatenate([v for _, v in self._parameters]), "parameters")
        zero = self.constant(np.array([0]))
        empty = self.node("Slice", source, zero, zero, zero)
        empty = self.node("Cast", empty, to=TensorProto.DOUBLE)
        empty = self.node("Reshape", empty, self.constant(np.array([-1])))
        vector = self.node("Concat", vector, empty, axis=0)
        sizes = self.constant(np.array([len(v) for _, v in self._parameters]))
        self._count += 1
        names = [name for name, _ in self._parameters]
        self.nodes.append(
            helper.make_node("Split", [vector, sizes], names, name=f"n{self._count}", axis=0)
        )
        self.nodes += emitted


Emitter = Callable[[GraphBuilder, str, Stage, str], str]


def _constants(builder: GraphBuilder, stage: Stage, prefix: str) -> list[str]:
    return [
        builder.parameter(stage.argument(i), f"{prefix}.{arg}")
        for i, arg in enumerate(ARGUMENTS[stage.kind])
    ]


def _binary(op_type: str) -> Emitter:
    def emit(builder: GraphBuilder, x: str, stage: Stage, prefix: str) -> str:
        return builder.node(op_type, x, *_constants(builder, stage, prefix))

    return emit


def clip(builder: GraphBuilder, x: str, low: str, high: str) -> str:
    """numpy's ``clip``: ``low`` where ``x < low``, ``high`` where ``x > high``, else ``x``."""
    x = builder.node("Where", builder.node("Less", x, low), low, x)
    return builder.node("Where", builder.node("Greater", x, high), high, x)


def _clip(builder: GraphBuilder, x: str, stage: Stage, prefix: str) -> str:
    return clip(builder, x, *_constants(builder, stage, prefix))


def _log(builder: GraphBuilder, x: str, stage: Stage, prefix: str) -> str:
    return builder.node("Log", x)


def log1p(builder: GraphBuilder, x: str) -> str:
    """``log1p`` as ``log(u) * (x / (u - 1))`` with ``u = 1 + x`` (``x`` where ``u == 1``)."""
    one = builder.constant(1.0)
    u = builder.node("Add", x, one)
    shifted = builder.node("Sub", u, one)
    ratio = builder.node("Div", x, shifted)
    value = builder.node("Mul", builder.node("Log", u), ratio)
    value = builder.node("Where", builder.node("Equal", u, one), x, value)
    return builder.node("Where", builder.node("IsInf", x, detect_negative=0), x, value)


def expm1(builder: GraphBuilder, y: str) -> str:
    """``expm1`` as ``(u - 1) * (y / log(u))`` with ``u = exp(y)`` (``y`` where ``u == 1``)."""
    one = builder.constant(1.0)
    u = builder.node("Exp", y)
    shifted = builder.node("Sub", u, one)
    value = builder.node("Mul", shifted, builder.node("Div", y, builder.node("Log", u)))
    value = builder.node(
        "Where", builder.node("Equal", shifted, builder.constant(-1.0)), shifted, value
    )
    value = builder.node("Where", builder.node("IsInf", u, detect_negative=0), u, value)
    return builder.node("Where", builder.node("Equal", u, one), y, value)


def _log1p(builder: GraphBuilder, x: str, stage: Stage, prefix: str) -> str:
    return log1p(builder, x)


def _yeo_johnson(builder: GraphBuilder, x: str, stage: Stage, prefix: str) -> str:
    """The numpy formula of :class:`normlock.methods.power.YeoJohnson`."""
    (lmbda_value,) = stage.args[0]
    (lmbda,) = _constants(builder, stage, prefix)
    one = builder.constant(1.0)
    if abs(lmbda_value) < _EPS:
        positive = log1p(builder, x)
    else:
        powered = builder.node("Pow", builder.node("Add", x, one), lmbda)
        positive = builder.node("Div", builder.node("Sub", powered, one), lmbda)
    flipped = builder.node("Neg", x)
    if abs(lmbda_value - 2) > _EPS:
        other = builder.node("Sub", builder.constant(2.0), lmbda)
        powered = builder.node("Pow", builder.node("Add", flipped, one), other)
        negative = builder.node(
            "Div", builder.node("Neg", builder.node("Sub", powered, one)), other
        )
    else:
        negative = builder.node("Neg", log1p(builder, flipped))
    at_least_zero = builder.node("GreaterOrEqual", x, builder.constant(0.0))
    return builder.node("Where", at_least_zero, positive, negative)


def _box_cox(builder: GraphBuilder, x: str, stage: Stage, prefix: str) -> str:
    """SciPy's ``boxcox``, branch for branch."""
    (lmbda_value,) = stage.args[0]
    (lmbda,) = _constants(builder, stage, prefix)
    logged = builder.node("Log", x)
    if abs(lmbda_value) < 1e-19:
        return logged
    y = builder.node("Mul", lmbda, logged)
    main = builder.node("Div", expm1(builder, y), lmbda)
    reduced = builder.node("Sub", y, builder.node("Log", builder.node("Abs", lmbda)))
    large = builder.node("Mul", builder.node("Sign", lmbda), builder.node("Exp", reduced))
    large = builder.node("Sub", large, builder.node("Div", builder.constant(1.0), lmbda))
    small = builder.node("Less", y, builder.constant(709.78))
    return builder.node("Where", small, main, large)


def interp(builder: GraphBuilder, x: str, xp: np.ndarray, fp: np.ndarray, prefix: str) -> str:
    """``numpy.interp``, case for case, for an increasing ``xp`` of two or more points."""
    size = len(xp)
    xs, ys = builder.constant(xp, f"{prefix}.xp"), builder.constant(fp, f"{prefix}.fp")
    axis = builder.constant(np.array([-1]))
    below = builder.node("GreaterOrEqual", builder.node("Unsqueeze", x, axis), xs)
    count = builder.node("Cast", below, to=TensorProto.INT64)
    count = builder.node("ReduceSum", count, axis, keepdims=0)
    j = builder.node("Sub", count, builder.constant(1))
    j = builder.node("Min", builder.node("Max", j, builder.constant(0)), builder.constant(size - 2))
    x0, y0 = builder.node("Gather", xs, j), builder.node("Gather", ys, j)
    j = builder.node("Add", j, builder.constant(1))
    x1, y1 = builder.node("Gather", xs, j), builder.node("Gather", ys, j)
    slope = builder.node("Div", builder.node("Sub", y1, y0), builder.node("Sub", x1, x0))
    out = builder.node("Add", builder.node("Mul", slope, builder.node("Sub", x, x0)), y0)
    other = builder.node("Add", builder.node("Mul", slope, builder.node("Sub", x, x1)), y1)
    out = builder.node("Where", builder.node("IsNaN", out), other, out)
    flat = builder.node("And", builder.node("IsNaN", out), builder.node("Equal", y0, y1))
    out = builder.node("Where", flat, y0, out)
    out = builder.node("Where", builder.node("Equal", x, x0), y0, out)
    last, first = builder.constant(xp[-1]), builder.constant(xp[0])
    out = builder.node(
        "Where", builder.node("GreaterOrEqual", x, last), builder.constant(fp[-1]), out
    )
    out = builder.node("Where", builder.node("Less", x, first), builder.constant(fp[0]), out)
    return builder.node("Where", builder.node("IsNaN", x), x, out)


def _quantile(builder: GraphBuilder, x: str, stage: Stage, prefix: str) -> str:
    """The uniform quantile map of :mod:`normlock.methods.quantile`, operation for operation."""
    q, r = (np.asarray(values) for values in stage.args[0][:2])
    forward = interp(builder, x, q, r, f"{prefix}.forward")
    backward = interp(builder, builder.node("Neg", x), -q[::-1], -r[::-1], f"{prefix}.backward")
    out = builder.node("Mul", builder.constant(0.5), builder.node("Sub", forward, backward))
    at_high = builder.node("Equal", x, builder.constant(q[-1]))
    out = builder.node("Where", at_high, builder.constant(1.0), out)
    at_low = builder.node("Equal", x, builder.constant(q[0]))
    return builder.node("Where", at_low, builder.constant(0.0), out)


EMITTERS: dict[str, Emitter] = {
    "sub": _binary("Sub"),
    "add": _binary("Add"),
    "mul": _binary("Mul"),
    "div": _binary("Div"),
    "clip": _clip,
    "log": _log,
    "log1p": _log1p,
    "yeo-johnson": _yeo_johnson,
    "box-cox": _box_cox,
    "quantile": _quantile,
}
"""Operation kind -> the function that emits its nodes."""
