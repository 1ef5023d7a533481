"""Reading an ONNX model for the audit: its layers, its input layer, the lock a combined
model carries, and a sample's statistics at each batch normalization (the graph run in
ONNX Runtime with those tensors as extra outputs)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto

from normlock.audit.inspection import Inspection
from normlock.audit.onnx_layers import Graph, onnx_layers, place_of
from normlock.audit.sample import ChannelStats, channel_stats
from normlock.audit.seam import InputLayer
from normlock.errors import InputError
from normlock.export import FINGERPRINT_KEY, INVALID_OUTPUT, LOCK_OUTPUT_KEY

_DTYPES = {
    TensorProto.FLOAT16: "float16",
    TensorProto.BFLOAT16: "bfloat16",
    TensorProto.FLOAT: "float32",
    TensorProto.DOUBLE: "float64",
}
_NUMPY = {"float16": np.float16, "float32": np.float32, "float64": np.float64}
_PASS_THROUGH = {"Identity", "Cast", "Reshape", "Flatten", "Transpose", "Unsqueeze", "Squeeze"}
_AFFINE = {"Sub", "Add", "Mul", "Div"}


def inspect_onnx(model: onnx.ModelProto, description: str, sample: Any) -> Inspection:
    """The :class:`Inspection` of an ONNX model; ``sample`` is its input (or None)."""
    props = {p.key: p.value for p in model.metadata_props}
    stage_output = props.get(LOCK_OUTPUT_KEY)
    skip = _lock_stage_tensors(model, stage_output) if stage_output else frozenset()
    graph = Graph.of(model.graph, skip)
    layers = onnx_layers(graph)
    inputs = _inputs(model)
    if not inputs:
        raise InputError(f"{description} has no input")
    elem = inputs[0].type.tensor_type.elem_type
    found = Inspection("onnx", description, layers, _DTYPES.get(elem, "float32"))
    if stage_output:
        columns = tuple(json.loads(props.get("normlock.columns", "[]")))
        found.attached = (props.get(FINGERPRINT_KEY, ""), columns)
        found.lock_stage = onnx.utils.Extractor(model).extract_model(
            [i.name for i in inputs], [stage_output, INVALID_OUTPUT]
        )
    start = stage_output or inputs[0].name
    found.input_layer = _input_layer(graph, start, layers)
    if sample is not None:
        found.stats = _sample_stats(model, graph, layers, inputs, sample)
    return found


def _inputs(model: onnx.ModelProto) -> list[Any]:
    stored = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in stored]


def _lock_stage_tensors(model: onnx.ModelProto, stage_output: str) -> frozenset[str]:
    """The tensors of a combined model's lock stage: what its output and flags depend on."""
    producer = {o: n for n in model.graph.node for o in n.output}
    seen: set[str] = set()
    todo = [stage_output, INVALID_OUTPUT]
    while todo:
        name = todo.pop()
        node = producer.get(name)
        if name in seen or node is None:
            continue
        seen.update(node.output)
        todo.extend(node.input)
    return frozenset(seen)


def _input_layer(graph: Graph, start: str, layers: list[Any]) -> InputLayer | None:
    """The normalization that first reads ``start``, past reshapes and casts."""
    node = graph.only_consumer(start)
    while node is not None and node.op_type in _PASS_THROUGH:
        node = graph.only_consumer(node.output[0])
    if node is None:
        return None
    if node.op_type == "BatchNormalization":
        layer = next((x for x in layers if x.params.get("node") == node.name), None)
        if layer is None or layer.running is None:
            return None
        mean, var = layer.running.mean, layer.running.var
        return InputLayer(layer.place, node.op_type, "batch", mean, np.sqrt(var), "graph")
    return _affine_layer(graph, node)


def _affine_layer(graph: Graph, node: Any) -> InputLayer | None:
    """Consecutive ``Sub``/``Add``/``Mul``/``Div`` by constants, as one ``(x - c) / s``."""
    center, scale = np.zeros(1), np.ones(1)
    ops, first = [], node
    while node is not None and node.op_type in _AFFINE:
        value = graph.constant(node.input[1])
        if value is None or graph.constant(node.input[0]) is not None:
            break
        k = value.astype(np.float64).reshape(-1)
        center, scale, k = np.broadcast_arrays(center, scale, k)
        if node.op_type == "Sub":
            center = center + k * scale
        elif node.op_type == "Add":
            center = center - k * scale
        elif node.op_type == "Div":
            scale = scale * k
        else:
            scale = scale / k
        ops.append(node.op_type)
        node = graph.only_consumer(node.output[0])
    if not ops or (np.all(center == 0.0) and np.all(scale == 1.0)):
        return None
    return InputLayer(place_of(first), "/".join(ops), "constants", center, scale, "graph")


def _sample_stats(
    model: onnx.ModelProto, graph: Graph, layers: list[Any], inputs: list[Any], sample: Any
) -> dict[str, ChannelStats]:
    """Each batch normalization's input statistics on ``sample`` (run in ONNX Runtime)."""
    import onnxruntime as ort

    wanted = {}
    for layer in layers:
        node = next((n for n in graph.nodes if n.name == layer.params.get("node")), None)
        if layer.running is not None and node is not None and node.op_type == "BatchNormalization":
            wanted[layer.place] = node.input[0]
    if not wanted:
        return {}
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    known = {o.name for o in probe.graph.output}
    for name in dict.fromkeys(wanted.values()):
        if name not in known:
            probe.graph.output.append(onnx.ValueInfoProto(name=name))
    dtype = _NUMPY.get(_DTYPES.get(inputs[0].type.tensor_type.elem_type, ""), np.float32)
    x = np.asarray(sample.detach().cpu().numpy() if hasattr(sample, "detach") else sample)
    try:
        providers = ["CPUExecutionProvider"]
        session = ort.InferenceSession(probe.SerializeToString(), providers=providers)
        values = session.run(list(wanted.values()), {inputs[0].name: x.astype(dtype)})
    except Exception as exc:
        raise InputError(
            f"the model cannot run on the sample of shape {x.shape}: {type(exc).__name__}: {exc}"
        ) from None
    return {place: channel_stats(v) for place, v in zip(wanted, values, strict=True)}
