"""A lock as an ONNX graph, and that graph placed in front of a model's graph.

The graph casts its input to double, emits each method's operations
(:mod:`normlock.methods.ops`) in order with double constants (the lock's parameters
as one vector the graph reads at run time, see
:class:`~normlock.export.onnx_ops.GraphBuilder`), and casts once to the input's type,
so arithmetic methods give the same bits as ``lock.transform`` in ONNX Runtime at
every optimization level. ONNX has no
``log1p`` or ``expm1``; they are emitted with their accurate textbook forms
(``log(u) * (x / (u - 1))`` with ``u = 1 + x``, and its ``exp`` twin). ONNX has no
inverse normal CDF, so a quantile step with normal output cannot be exported.

The graph has a second output, ``normlock_invalid``: where ``lock.transform`` would
raise (NaN/inf policies, domains, overflow), since ONNX cannot raise; see
:mod:`normlock.export.onnx_checks`.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from normlock.errors import InputError
from normlock.export import FINGERPRINT_KEY, INVALID_OUTPUT, LOCK_OUTPUT_KEY
from normlock.export.onnx_checks import either, invalid, nowhere, outside_domain
from normlock.export.onnx_ops import EMITTERS, GraphBuilder
from normlock.export.plan import Plan, plan
from normlock.lock import Lock
from normlock.methods.ops import Op

DEFAULT_OPSET = 17
_TYPES = {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}
LOCK_STAGE_OUTPUT = "normlock/out"
"""The lock stage's output tensor in a model made by :func:`attach`."""


def _unsupported(op: Op) -> str | None:
    if op.kind == "quantile" and op.args[2] == "normal":
        return "ONNX has no inverse normal CDF for output_distribution='normal'"
    return None if op.kind in EMITTERS else f"no ONNX operation for {op.kind!r}"


def to_onnx(
    lock: Lock,
    *,
    dtype: str = "float32",
    per_feature: bool = False,
    feature_axis: int = -1,
    rank: int = 2,
    opset: int = DEFAULT_OPSET,
    input_name: str = "input",
    output_name: str = "normalized",
) -> onnx.ModelProto:
    """The lock as an ONNX model.

    Args:
        lock: the lock.
        dtype: the input and output element type, ``"float32"`` or ``"float64"``.
        per_feature: one input per column, named after it, each of shape ``[N, 1]``,
            instead of one matrix.
        feature_axis: the axis that holds the columns (``1`` for ``NCHW`` images).
        rank: the number of input dimensions (``4`` for images).
        opset: the ONNX operator set (13 or newer); match the model you compose with.
        input_name: the matrix input's name.
        output_name: the output's name; the output has the input matrix's shape.

    Returns:
        A checked ``onnx.ModelProto`` whose metadata records the lock's fingerprint and
        columns. Its second output, ``normlock_invalid`` (bool, the output's shape), is
        true where ``lock.transform`` would raise (see :mod:`normlock.export.onnx_checks`).
    """
    if dtype not in _TYPES:
        raise InputError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    if opset < 13:
        raise InputError(f"opset must be 13 or newer, got {opset}")
    if per_feature and rank != 2:
        raise InputError("per_feature inputs need rank=2 (a column per input)")
    if output_name == INVALID_OUTPUT:
        raise InputError(f"output_name {INVALID_OUTPUT!r} is the name of the flag output")
    axis = feature_axis % rank
    layout = plan(lock, _unsupported, "ONNX")
    elem = _TYPES[dtype]
    shape: list[Any] = [f"d{i}" for i in range(rank)]
    shape[axis] = len(layout.columns)
    builder = GraphBuilder()
    if per_feature:
        inputs = [helper.make_tensor_value_info(c, elem, ["d0", 1]) for c in layout.columns]
        x = builder.node("Concat", *layout.columns, axis=1)
    else:
        inputs = [helper.make_tensor_value_info(input_name, elem, shape)]
        x = input_name
    x = builder.node("Cast", x, to=TensorProto.DOUBLE)
    last = [i for i in range(rank) if i != axis] + [axis]  # the features' axis moved last
    if axis != rank - 1:
        x = builder.node("Transpose", x, perm=last)
    z, domain = _emit(builder, layout, x)
    y = builder.node("Cast", z, to=elem)
    flags = invalid(builder, layout, x, y, domain)
    if lock.groups:
        from normlock.export.onnx_groups import emit_groups

        y, flags = emit_groups(builder, lock, z, y, flags, elem)
        shape[axis] = len(lock.output_columns)
    if axis != rank - 1:
        back = [int(i) for i in np.argsort(last)]
        y, flags = (builder.node("Transpose", t, perm=back) for t in (y, flags))
    builder.rename(y, output_name)
    builder.rename(flags, INVALID_OUTPUT)
    builder.seal(inputs[0].name)
    outputs = [
        helper.make_tensor_value_info(output_name, elem, shape),
        helper.make_tensor_value_info(INVALID_OUTPUT, TensorProto.BOOL, shape),
    ]
    graph = helper.make_graph(
        builder.nodes, "normlock", inputs, outputs, initializer=builder.initializers
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="normlock",
        doc_string=f"normlock lock {lock.fingerprint}",
    )
    columns = json.dumps(list(layout.columns))
    helper.set_model_props(model, {FINGERPRINT_KEY: lock.fingerprint, "normlock.columns": columns})
    onnx.checker.check_model(model, full_check=True)
    return model


def _emit(builder: GraphBuilder, layout: Plan, x: str) -> tuple[str, str | None]:
    """The normalized columns, and where a value left an operation's domain (None when
    no operation has a bound)."""
    parts: list[str] = []
    domains: list[str | None] = []
    for number, group in enumerate(layout.groups):
        z = x
        if len(layout.groups) > 1:
            indices = builder.constant(np.array(group.positions), f"group{number}.columns")
            z = builder.node("Gather", x, indices, axis=-1)
        domain = None
        for step, stage in enumerate(group.stages):
            domain = either(builder, domain, outside_domain(builder, z, stage))
            z = EMITTERS[stage.kind](builder, z, stage, f"group{number}.stage{step}.{stage.kind}")
        parts.append(z)
        domains.append(domain)
    restore = None
    if not layout.in_order:
        restore = builder.constant(np.argsort(np.array(layout.order, dtype=np.int64)), "restore")
    z = _assemble(builder, parts, restore)
    if all(d is None for d in domains):
        return z, None
    filled = [
        d if d is not None else nowhere(builder, part)
        for d, part in zip(domains, parts, strict=True)
    ]
    return z, _assemble(builder, filled, restore)


def _assemble(builder: GraphBuilder, parts: list[str], restore: str | None) -> str:
    """The groups' columns side by side, put back in the lock's order by ``restore``."""
    z = parts[0] if len(parts) == 1 else builder.node("Concat", *parts, axis=-1)
    return z if restore is None else builder.node("Gather", z, restore, axis=-1)


def attach(
    lock: Lock,
    model: onnx.ModelProto,
    *,
    input_name: str | None = None,
    feature_axis: int = -1,
) -> onnx.ModelProto:
    """``model`` with the lock's graph in front of its input: it takes raw features.

    Args:
        lock: the lock whose columns are the model's input columns, in order.
        model: an ONNX model with a float or double input whose ``feature_axis`` holds
            the columns (``[N, columns]``, or ``[N, C, H, W]`` with ``feature_axis=1``).
        input_name: the model input to feed (default: its only required input).
        feature_axis: the input axis that holds the lock's columns.

    Returns:
        The merged model (``onnx.compose.merge_models``); its input keeps the model's
        input name, and the lock's operator set and IR version follow the model's. Its
        metadata records the lock's fingerprint and columns, and the tensor the lock
        stage outputs (:data:`~normlock.export.LOCK_OUTPUT_KEY`), from which
        ``verify`` and ``audit`` read the lock stage back.
    """
    stored = {init.name for init in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in stored]
    if input_name is None:
        if len(names) != 1:
            raise InputError(f"the model has inputs {names}; name the one to feed with input_name=")
        input_name = names[0]
    if input_name not in names:
        raise InputError(f"the model has no input {input_name!r}; its inputs are {names}")
    feed = next(i for i in model.graph.input if i.name == input_name)
    dtype = {v: k for k, v in _TYPES.items()}.get(feed.type.tensor_type.elem_type)
    if dtype is None:
        raise InputError(f"model input {input_name!r} is not float or double; cannot feed it")
    rank = len(feed.type.tensor_type.shape.dim) or 2
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    front = to_onnx(
        lock,
        dtype=dtype,
        opset=opset,
        input_name=input_name,
        output_name=LOCK_STAGE_OUTPUT,
        feature_axis=feature_axis,
        rank=rank,
    )
    front.ir_version = model.ir_version
    merged = onnx.compose.merge_models(front, model, io_map=[(LOCK_STAGE_OUTPUT, input_name)])
    helper.set_model_props(
        merged,
        {
            **{p.key: p.value for p in merged.metadata_props},
            LOCK_OUTPUT_KEY: LOCK_STAGE_OUTPUT,
        },
    )
    return merged
