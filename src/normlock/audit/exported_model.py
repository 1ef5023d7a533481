"""Reading a ``torch.export`` program for the audit.

The graph keeps, for each operation, the module it came from (``nn_module_stack``):
a normalization layer is a module whose class is one (by name, as in
:mod:`normlock.audit.torch_layers`), described from its operation's arguments (``eps``,
``momentum``, training flag) and its buffers. A sample runs through the unflattened
program (``torch.export.unflatten``), whose submodules take forward hooks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from normlock.audit.inspection import Inspection
from normlock.audit.layers import BATCH, PER_SAMPLE, RUNNING, TRAINING, Layer, RunningStats
from normlock.audit.seam import InputLayer
from normlock.audit.torch_layers import family_by_name
from normlock.audit.torch_trace import trace
from normlock.export import FINGERPRINT_BUFFER
from normlock.export.torch_attach import decode_fingerprint

_BATCH_OPS: dict[str, tuple[int | None, int | None, int, int]] = {
    # op name: argument index of running_mean (None: none), of training (None: never),
    # of momentum, of eps
    "batch_norm": (3, 5, 6, 7),
    "_native_batch_norm_legit_no_training": (3, None, 5, 6),
    "_native_batch_norm_legit_functional": (3, 5, 6, 7),
    "_native_batch_norm_legit": (3, 5, 6, 7),
    "_native_batch_norm_legit.no_stats": (None, 3, 4, 5),
    "instance_norm": (3, 5, 6, 7),
}
_EPS_ARG = {"layer_norm": 4, "native_layer_norm": 4, "group_norm": 4, "rms_norm": 3}
_NATIVE_GROUP_EPS = 7


def inspect_exported(program: Any, description: str, sample: Any) -> Inspection:
    """The :class:`Inspection` of an ``ExportedProgram``."""
    state = {**program.state_dict, **program.constants}
    modules = _modules(program)
    buffers = program.graph_signature.inputs_to_buffers
    layers = [
        layer
        for order, (place, (cls, nodes)) in enumerate(modules.items())
        if (layer := _layer(place, cls, nodes, buffers, state, order)) is not None
    ]
    layers = [layer for layer in layers if not layer.place.startswith("lock.")]
    dtype = next(
        (str(t.dtype).removeprefix("torch.") for t in state.values() if t.is_floating_point()),
        "float32",
    )
    found = Inspection("torch.export", description, layers, dtype)
    attached = FINGERPRINT_BUFFER in program.state_dict
    if attached:
        found.attached = (decode_fingerprint(program.state_dict[FINGERPRINT_BUFFER]), ())
        found.lock_stage = torch.export.unflatten(program).lock
    first = next((p for p in modules if p and not p.startswith("lock")), None)
    by_place = {layer.place: layer for layer in layers}
    if first in by_place:
        found.input_layer = _input_layer(by_place[first])
    if sample is not None:
        watched = {layer.place for layer in layers if layer.running is not None}
        x = sample if isinstance(sample, torch.Tensor) else torch.from_numpy(np.asarray(sample))
        if x.is_floating_point():
            x = x.to(getattr(torch, dtype))
        seen = trace(torch.export.unflatten(program), x, watched)
        found.stats = seen.stats
    return found


def _modules(program: Any) -> dict[str, tuple[str, list[Any]]]:
    """Module path -> (class name, its operations), in graph order."""
    found: dict[str, tuple[str, list[Any]]] = {}
    for node in program.graph.nodes:
        stack = node.meta.get("nn_module_stack") if node.op == "call_function" else None
        if not stack:
            continue
        path, qualified = list(stack.values())[-1]
        name = qualified if isinstance(qualified, str) else getattr(qualified, "__name__", "")
        found.setdefault(str(path), (name.rsplit(".", 1)[-1], []))[1].append(node)
    return found


def _op(node: Any) -> str:
    return str(node.target).removeprefix("aten.").split(".")[0]


def _layer(
    place: str,
    cls: str,
    nodes: list[Any],
    buffers: dict[str, str],
    state: dict[str, torch.Tensor],
    order: int,
) -> Layer | None:
    family, _ = family_by_name(cls)
    if family is None or not place:
        return None
    common: dict[str, Any] = {"place": place, "type": cls, "family": family, "order": order}
    for node in nodes:
        op = _op(node)
        if str(node.target).endswith(".no_stats"):
            op += ".no_stats"
        if op in _BATCH_OPS:
            return _batch(node, _BATCH_OPS[op], buffers, state, common)
        if op in _EPS_ARG or op == "native_group_norm":
            index = _NATIVE_GROUP_EPS if op == "native_group_norm" else _EPS_ARG[op]
            eps = node.args[index] if len(node.args) > index else None
            params: dict[str, Any] = {}
            if op in ("layer_norm", "native_layer_norm", "rms_norm"):
                params["normalized_shape"] = tuple(node.args[1])
            elif op == "group_norm":
                params["num_groups"] = int(node.args[1])
            eps = None if eps is None else float(eps)
            return Layer(mode=PER_SAMPLE, eps=eps, params=params, **common)
    if family == "batch":
        return None
    # a hand-written norm: its epsilon is the float it adds
    added = (a for n in nodes if _op(n) == "add" for a in n.args if isinstance(a, float))
    return Layer(mode=PER_SAMPLE, eps=next(added, None), params={"hand_written": True}, **common)


def _batch(
    node: Any,
    positions: tuple[int | None, int | None, int, int],
    buffers: dict[str, str],
    state: dict[str, torch.Tensor],
    common: dict[str, Any],
) -> Layer:
    mean_at, training_at, momentum_at, eps_at = positions
    mean_node = var_node = None
    if mean_at is not None:
        mean_node, var_node = node.args[mean_at], node.args[mean_at + 1]
    running = None
    if mean_node is not None and var_node is not None:
        fqn = buffers.get(mean_node.name, "")
        tracked = state.get(fqn.rsplit(".", 1)[0] + ".num_batches_tracked")
        running = RunningStats(
            _numpy(state[fqn]),
            _numpy(state[buffers[var_node.name]]),
            None if tracked is None else int(tracked.item()),
        )
    training = bool(node.args[training_at]) if training_at is not None else False
    if common["family"] == "instance":
        mode = (TRAINING if training else RUNNING) if running is not None else PER_SAMPLE
    else:
        mode = BATCH if running is None else TRAINING if training else RUNNING
    momentum = node.args[momentum_at]
    params = {} if running is None else {"num_features": int(running.mean.size)}
    return Layer(
        mode=mode,
        eps=float(node.args[eps_at]),
        momentum=None if momentum is None else float(momentum),
        params=params,
        running=running,
        **common,
    )


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to(torch.float64).cpu().numpy().reshape(-1)


def _input_layer(layer: Layer) -> InputLayer | None:
    if layer.family != "batch" or layer.running is None or layer.mode == BATCH:
        return None
    spread = np.sqrt(layer.running.var)
    return InputLayer(layer.place, layer.type, "batch", layer.running.mean, spread, "graph")
