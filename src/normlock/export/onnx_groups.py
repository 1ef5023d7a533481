"""A lock's whitening groups in the ONNX graph, with the bits of ``lock.transform``.

Each group emits :func:`~normlock.methods.ops.combine` node by node: ``Sub`` the mean,
then per input ``j`` a ``Mul`` of its column by ``W[:, j]`` and an ``Add`` to the sum so
far, in double, left to right; the matrix columns are lock parameters (slices of the
parameter vector, see :class:`~normlock.export.onnx_ops.GraphBuilder`), so no optimizer
folds or fuses them. A group's outputs are flagged in ``normlock_invalid`` where one of
its inputs is flagged or where finite inputs give a non-finite output.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from normlock.export.onnx_ops import GraphBuilder
from normlock.groups.transform import output_positions
from normlock.lock import Lock


def _any(builder: GraphBuilder, mask: str) -> str:
    """Whether any value along the last axis is true (the axis kept, of size 1)."""
    counted = builder.node("Cast", mask, to=TensorProto.DOUBLE)
    total = builder.node("ReduceSum", counted, builder.constant(np.array([-1])), keepdims=1)
    return builder.node("Greater", total, builder.constant(0.0))


def emit_groups(
    builder: GraphBuilder, lock: Lock, z: str, y: str, flags: str, elem: int
) -> tuple[str, str]:
    """The output columns and their flags from the chains' double outputs ``z``, their
    rounded ``y`` and flags (the lock's columns on the last axis); ``elem`` is the output
    element type."""
    values, masks = [y], [flags]
    for number, group in enumerate(lock.groups):
        prefix = f"whiten{number}"
        positions = builder.constant(np.array([lock.columns.index(c) for c in group.columns]))
        x = builder.node("Gather", z, positions, axis=-1)
        c = builder.node("Sub", x, builder.parameter(group.mean, f"{prefix}.mean"))
        acc = ""
        for j in range(len(group.columns)):
            column = builder.node("Gather", c, builder.constant(np.array([j])), axis=-1)
            weights = builder.parameter(group.matrix[:, j], f"{prefix}.matrix{j}")
            term = builder.node("Mul", column, weights)
            acc = term if j == 0 else builder.node("Add", acc, term)
        out = builder.node("Cast", acc, to=elem)
        bad_in = builder.node("Or", builder.node("IsNaN", x), builder.node("IsInf", x))
        bad_out = builder.node("Or", builder.node("IsNaN", out), builder.node("IsInf", out))
        overflow = builder.node(
            "And", builder.node("Not", _any(builder, bad_in)), _any(builder, bad_out)
        )
        inherited = _any(builder, builder.node("Gather", flags, positions, axis=-1))
        row = builder.node("Or", overflow, inherited)
        masks.append(builder.node("Expand", row, builder.node("Shape", out)))
        values.append(out)
    layout = builder.constant(np.array(output_positions(lock.columns, lock.groups)), "layout")
    y = builder.node("Gather", builder.node("Concat", *values, axis=-1), layout, axis=-1)
    flags = builder.node("Gather", builder.node("Concat", *masks, axis=-1), layout, axis=-1)
    return y, flags
