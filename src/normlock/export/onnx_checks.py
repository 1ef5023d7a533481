"""The checks of ``lock.transform`` as ONNX nodes: the graph's ``normlock_invalid`` output.

ONNX has no operator that raises, so the graph reports what ``lock.transform`` would
reject as a second output: a bool tensor of the output's shape, true where the value's
feature rejects it, for

* NaN where the feature's policy is ``nan: error``, and ±inf where it is ``inf: error``;
* a value that reaches an operation of :data:`~normlock.methods.ops.DOMAIN_BOUNDS` at or
  below its bound (``log`` of 0 or less, ``log1p`` of -1 or less, ``box-cox`` of 0 or
  less);
* a finite input whose output is not finite in the output type (overflow).

Passthrough columns are never flagged. The normalized value at a flagged position is
whatever the formula gives there; serving code must check the flag before using it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from onnx import TensorProto, helper

from normlock.export.onnx_ops import GraphBuilder
from normlock.export.plan import Plan, Stage


def outside_domain(builder: GraphBuilder, z: str, stage: Stage) -> str | None:
    """Where ``z``, the input of ``stage``, is outside its domain (None: no bound)."""
    if stage.bound is None:
        return None
    return builder.node("LessOrEqual", z, builder.constant(stage.bound))


def either(builder: GraphBuilder, first: str | None, second: str | None) -> str | None:
    """The ``Or`` of two masks, either of which may be absent."""
    if first is None or second is None:
        return first or second
    return builder.node("Or", first, second)


def nowhere(builder: GraphBuilder, like: str) -> str:
    """An all-false mask of the shape of ``like``."""
    false = helper.make_tensor("false", TensorProto.BOOL, [1], [False])
    return builder.node("ConstantOfShape", builder.node("Shape", like), value=false)


def invalid(builder: GraphBuilder, layout: Plan, x: str, y: str, domain: str | None) -> str:
    """Per value, whether ``lock.transform`` rejects it.

    Args:
        builder: the graph under construction.
        layout: the lock's plan.
        x: the input as double, columns on the last axis in lock order.
        y: the output in the output type, same layout.
        domain: where a value left an operation's domain, same layout (None: nowhere).
    """
    features = layout.columns_where(lambda f: True)
    if not any(features):
        return nowhere(builder, y)
    found = {"nan": builder.node("IsNaN", x), "inf": builder.node("IsInf", x)}
    finite = builder.node("Not", builder.node("Or", *found.values()))
    overflow = builder.node("And", finite, _non_finite(builder, y))
    mask = _on(builder, overflow, features)
    for policy, where in found.items():
        columns = layout.columns_where(lambda f, p=policy: getattr(f, p) == "error")
        if any(columns):
            mask = builder.node("Or", mask, _on(builder, where, columns))
    return mask if domain is None else builder.node("Or", mask, domain)


def _non_finite(builder: GraphBuilder, v: str) -> str:
    return builder.node("Or", builder.node("IsNaN", v), builder.node("IsInf", v))


def _on(builder: GraphBuilder, mask: str, columns: Sequence[bool]) -> str:
    """``mask`` on the chosen columns only."""
    if all(columns):
        return mask
    return builder.node("And", mask, builder.constant(np.array(columns, dtype=bool)))
