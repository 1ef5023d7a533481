"""The normalization layers of an ONNX graph.

Operators: ``BatchNormalization``, ``LayerNormalization``, ``InstanceNormalization``
(an ``InstanceNormalization`` between two ``Reshape`` with unit scale is how exporters
write ``GroupNorm``), ``GroupNormalization``, ``RMSNormalization``, ``LRN``, and ONNX
Runtime's fused ``SkipLayerNormalization`` / ``SimplifiedLayerNormalization``. Norms
written out in elementary operations (``ReduceMean`` of a square, ``Add`` of an
epsilon, ``Sqrt``: how exporters write RMSNorm, and LayerNorm before opset 17) are
found by that pattern, with the epsilon they add.

ONNX momentum is the running value's weight; a :class:`~normlock.audit.layers.Layer`
states torch's convention (the new batch's weight), ``1 - momentum``, and an ONNX
momentum of 1 (how torch exports a cumulative average, ``momentum=None``) as None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from normlock.audit.layers import PER_SAMPLE, RUNNING, TRAINING, Layer, RunningStats

_FUSED = {
    "SkipLayerNormalization": "layer",
    "SimplifiedLayerNormalization": "rms",
    "SkipSimplifiedLayerNormalization": "rms",
}


@dataclass(frozen=True)
class Graph:
    """An ONNX graph indexed for pattern matching.

    Attributes:
        nodes: the nodes, in graph order (a combined model's lock stage left out).
        constants: tensor name -> value, for initializers, ``Constant`` nodes and
            ``Identity`` nodes of either.
        producer: tensor name -> the node that outputs it.
        consumers: tensor name -> the nodes that read it.
    """

    nodes: tuple[Any, ...]
    constants: dict[str, np.ndarray]
    producer: dict[str, Any]
    consumers: dict[str, list[Any]]

    @classmethod
    def of(cls, graph: Any, skip: frozenset[str] = frozenset()) -> Graph:
        """Index ``graph``; nodes whose outputs are all in ``skip`` are left out."""
        constants = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        nodes = []
        for node in graph.node:
            if node.op_type == "Constant" and node.attribute:
                constants[node.output[0]] = _constant_value(node)
            elif node.op_type == "Identity" and node.input[0] in constants:
                constants[node.output[0]] = constants[node.input[0]]
            if not all(o in skip for o in node.output):
                nodes.append(node)
        producer = {o: n for n in nodes for o in n.output}
        consumers: dict[str, list[Any]] = {}
        for node in nodes:
            for name in node.input:
                consumers.setdefault(name, []).append(node)
        return cls(tuple(nodes), constants, producer, consumers)

    def constant(self, name: str) -> np.ndarray | None:
        """The value of tensor ``name`` when it is a constant."""
        return self.constants.get(name)

    def only_consumer(self, name: str) -> Any:
        """The single node that reads ``name``, else None."""
        found = self.consumers.get(name, [])
        return found[0] if len(found) == 1 else None


def _constant_value(node: Any) -> np.ndarray:
    attribute = node.attribute[0]
    if attribute.name == "value":
        return numpy_helper.to_array(attribute.t)
    return np.asarray(onnx.helper.get_attribute_value(attribute))


def attributes(node: Any) -> dict[str, Any]:
    """A node's attributes by name."""
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def place_of(node: Any) -> str:
    """The module path an exporter recorded in a node name (``/layer1/layer1.0/bn1/Op``
    -> ``layer1.0.bn1``), else the node's name (or its type)."""
    parts = [p for p in node.name.split("/") if p][:-1] if "/" in node.name else []
    merged: list[str] = []
    for part in parts:
        if merged and part.startswith(merged[-1] + "."):
            merged[-1] = part
        else:
            merged.append(part)
    return ".".join(merged) or node.name or node.op_type


def onnx_layers(graph: Graph) -> list[Layer]:
    """Every normalization layer of ``graph``, in graph order."""
    layers: list[Layer] = []
    for node in graph.nodes:
        layer = _layer(graph, node, len(layers))
        if layer is not None:
            layers.append(layer)
    return layers


def _layer(graph: Graph, node: Any, order: int) -> Layer | None:
    op, attrs = node.op_type, attributes(node)
    eps = float(attrs.get("epsilon", 1e-5))
    common = {"place": place_of(node), "type": op, "eps": eps, "order": order}
    params: dict[str, Any] = {"node": node.name}
    if op == "BatchNormalization":
        return _batch(graph, node, attrs, common, params)
    if op == "LayerNormalization":
        params["axis"] = int(attrs.get("axis", -1))
        return Layer(family="layer", mode=PER_SAMPLE, params=params, **common)
    if op == "InstanceNormalization":
        scale = graph.constant(node.input[1])
        reshaped = getattr(graph.producer.get(node.input[0]), "op_type", None) == "Reshape"
        if reshaped and scale is not None and np.all(scale == 1.0):
            params["num_groups"] = int(scale.size)
            common["type"] = "GroupNorm (as InstanceNormalization)"
            return Layer(family="group", mode=PER_SAMPLE, params=params, **common)
        return Layer(family="instance", mode=PER_SAMPLE, params=params, **common)
    if op == "GroupNormalization":
        params["num_groups"] = int(attrs.get("num_groups", 0))
        return Layer(family="group", mode=PER_SAMPLE, params=params, **common)
    if op == "RMSNormalization":
        return Layer(family="rms", mode=PER_SAMPLE, params=params, **common)
    if op in _FUSED:
        return Layer(family=_FUSED[op], mode=PER_SAMPLE, params=params, **common)
    if op == "LRN":
        params.update({k: attrs[k] for k in ("size", "alpha", "beta", "bias") if k in attrs})
        common["eps"] = None
        return Layer(family="local_response", mode=PER_SAMPLE, params=params, **common)
    return _decomposed(graph, node, common, params)


def _batch(
    graph: Graph, node: Any, attrs: dict[str, Any], common: dict[str, Any], params: dict[str, Any]
) -> Layer:
    mean, var = graph.constant(node.input[3]), graph.constant(node.input[4])
    running = None
    if mean is not None and var is not None:
        running = RunningStats(
            mean.astype(np.float64).reshape(-1), var.astype(np.float64).reshape(-1)
        )
        params["num_features"] = int(running.mean.size)
    training = bool(attrs.get("training_mode", 0))
    kept = float(np.float32(attrs.get("momentum", 0.9)))
    return Layer(
        family="batch",
        mode=TRAINING if training else RUNNING,
        momentum=None if kept == 1.0 else round(1.0 - kept, 6),
        params=params,
        running=running,
        **common,
    )


def _decomposed(
    graph: Graph, node: Any, common: dict[str, Any], params: dict[str, Any]
) -> Layer | None:
    """A norm written out: ``ReduceMean(x * x or x ** 2) + eps`` then ``Sqrt``."""
    if node.op_type != "ReduceMean":
        return None
    square = graph.producer.get(node.input[0])
    if square is None or not _squares(graph, square):
        return None
    add = graph.only_consumer(node.output[0])
    if add is None or add.op_type != "Add":
        return None
    other = [graph.constant(i) for i in add.input if i != node.output[0]]
    if len(other) != 1 or other[0] is None or other[0].size != 1:
        return None
    after = graph.only_consumer(add.output[0])
    if after is None or after.op_type != "Sqrt":
        return None
    centered = graph.producer.get(square.input[0])
    layer_norm = centered is not None and centered.op_type == "Sub"
    family = "layer" if layer_norm else "rms"
    common["eps"] = float(other[0].reshape(-1)[0])
    common["place"] = place_of(add)
    common["type"] = ("LayerNorm" if layer_norm else "RMSNorm") + " (decomposed)"
    params["node"] = add.name
    params["eps_dtype"] = str(other[0].dtype)
    return Layer(family=family, mode=PER_SAMPLE, params=params, **common)


def _squares(graph: Graph, node: Any) -> bool:
    if node.op_type == "Mul":
        return len(node.input) == 2 and node.input[0] == node.input[1]
    if node.op_type == "Pow":
        exponent = graph.constant(node.input[1])
        return exponent is not None and exponent.size == 1 and float(exponent.reshape(-1)[0]) == 2
    return False
