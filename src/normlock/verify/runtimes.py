"""Targets that run in another runtime: ONNX Runtime and torch (imported only when used)."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from normlock.errors import NO_ORIGIN
from normlock.export import FINGERPRINT_BUFFER, INVALID_OUTPUT, LOCK_OUTPUT_KEY
from normlock.verify.targets import Target, TargetError

_ONNX_TYPES = {
    "tensor(double)": "float64",
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
}


def onnx_target(model: bytes, features: Sequence[str], description: str) -> Target:
    """Run an ONNX model with onnxruntime; inputs and outputs are matched by name (one
    per feature) or taken as one matrix in lock order, whichever the graph declares.

    A ``normlock_invalid`` output (the flags of a lock's graph, see
    :mod:`normlock.export.onnx_checks`) is no feature output: a run where it flags a
    value raises :class:`TargetError` naming the first feature and row, as
    ``lock.transform`` raises for that value. A model with a lock attached
    (:func:`normlock.export.onnx_graph.attach`) is checked by its lock stage.
    """
    model, stage_note = lock_stage(model)
    session = onnx_session(model, description)
    inputs, outputs = session.get_inputs(), session.get_outputs()
    types = {_ONNX_TYPES.get(i.type) for i in inputs}
    if len(types) != 1 or None in types:
        raise TargetError(
            f"{description}: inputs must all be float, double or float16 tensors, found "
            + ", ".join(f"{i.name}: {i.type}" for i in inputs)
        )
    graph_dtype = types.pop()
    names = list(features)
    per_feature = _per_feature_inputs(inputs, names, description)
    layout = "one input per feature, by name" if per_feature else "one matrix in lock order"
    notes = [*stage_note, f"graph inputs: {layout} ({graph_dtype})"]
    if graph_dtype == "float16":
        notes.append("the graph takes float16: the float32 probes are rounded to float16")
    output_names = [o.name for o in outputs if o.name != INVALID_OUTPUT]
    flagged = len(output_names) < len(outputs)
    if flagged:
        notes.append(f"output {INVALID_OUTPUT!r} flags the values lock.transform rejects")
    keys = _output_keys(output_names, names, description, notes)

    def run(matrix: np.ndarray) -> Any:
        values = matrix.astype(np.float16) if graph_dtype == "float16" else matrix
        if per_feature:
            feeds = {
                i.name: values[:, names.index(i.name)].reshape(-1, *([1] * (len(i.shape) - 1)))
                for i in inputs
            }
        else:
            feeds = {inputs[0].name: values if len(inputs[0].shape) == 2 else values[:, 0]}
        fetched = output_names + [INVALID_OUTPUT] * flagged
        results = [np.asarray(r) for r in session.run(fetched, feeds)]
        if flagged:
            _raise_flagged(results.pop(), matrix, names, f"{description}'s {INVALID_OUTPUT!r}")
        results = [r.astype(np.float32) if r.dtype == np.float16 else r for r in results]
        if keys is None:
            return results[0]
        return {k: r.reshape(-1) for k, r in zip(keys, results, strict=True)}

    dtypes = ("float32",) if graph_dtype == "float16" else (graph_dtype,)
    return Target(description, run, dtypes, tuple(notes))


def onnx_session(model: bytes, description: str) -> Any:
    """An onnxruntime session of ``model`` on the CPU (``description`` names it in errors);
    of its lock stage for a model with a lock attached (see :func:`lock_stage`)."""
    model, _ = lock_stage(model)
    try:
        import onnxruntime as ort
    except ImportError:
        raise TargetError("ONNX targets need onnxruntime: pip install 'normlock[verify]'") from None
    try:
        return ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise TargetError(f"{description}: onnxruntime cannot load it: {exc}") from None


def lock_stage(model: bytes) -> tuple[bytes, list[str]]:
    """A combined model's lock stage (its inputs to the lock's output and flags, without
    the metadata key that marks a combined model), with a note; any other model as it is."""
    if LOCK_OUTPUT_KEY.encode() not in model:  # cheap: most models are not combined
        return model, []
    import onnx

    proto = onnx.load_from_string(model)
    props = {p.key: p.value for p in proto.metadata_props}
    output = props.get(LOCK_OUTPUT_KEY)
    if output is None:
        return model, []
    stored = {i.name for i in proto.graph.initializer}
    inputs = [i.name for i in proto.graph.input if i.name not in stored]
    stage = onnx.utils.Extractor(proto).extract_model(inputs, [output, INVALID_OUTPUT])
    kept = [(p.key, p.value) for p in stage.metadata_props if p.key != LOCK_OUTPUT_KEY]
    del stage.metadata_props[:]
    onnx.helper.set_model_props(stage, dict(kept))
    note = f"a model with a lock attached: its lock stage (output {output!r}) is checked"
    return stage.SerializeToString(), [note]


def _raise_flagged(flags: np.ndarray, matrix: np.ndarray, names: list[str], source: str) -> None:
    """Raise for the first value ``flags`` (from ``source``) marks, feature by feature as
    ``lock.transform`` checks them."""
    if not flags.any():
        return
    rows = flags.reshape(matrix.shape[0], -1)
    if rows.shape[1] != len(names):
        where = NO_ORIGIN.at(int(np.flatnonzero(rows.any(axis=1))[0]))
    else:
        column = int(np.flatnonzero(rows.any(axis=0))[0])
        row = int(np.flatnonzero(rows[:, column])[0])
        value = float(matrix[row, column])
        why = (
            "NaN (its policy is nan='error')"
            if np.isnan(value)
            else "infinite (its policy is inf='error')"
            if np.isinf(value)
            else "outside a step's domain, or its output overflows"
        )
        where = f"feature {names[column]!r}, {NO_ORIGIN.at(row)}: {value!r} is {why}"
    raise TargetError(
        f"{source} flags {int(flags.sum())} input value(s) that lock.transform rejects; "
        f"the first: {where}"
    )


def _per_feature_inputs(inputs: Sequence[Any], names: list[str], description: str) -> bool:
    """True for one graph input per feature (by name), False for one matrix input."""
    first = inputs[0]
    if len(inputs) == 1 and (len(first.shape) == 2 or (len(names) == 1 and len(first.shape) == 1)):
        width = first.shape[-1] if len(first.shape) == 2 else 1
        if isinstance(width, int) and width != len(names):
            raise TargetError(
                f"{description}: input {first.name!r} takes {width} columns, the lock has "
                f"{len(names)} features ({', '.join(names)})"
            )
        return False
    given = sorted(i.name for i in inputs)
    if given != sorted(names):
        raise TargetError(
            f"{description}: graph inputs {given} do not match the lock's features "
            f"{sorted(names)}; name one input per feature, or take one [N, {len(names)}] matrix"
        )
    for i in inputs:
        if len(i.shape) not in (1, 2) or (len(i.shape) == 2 and i.shape[1] not in (1, None)):
            raise TargetError(f"{description}: input {i.name!r} has shape {i.shape}, not [N]")
    return True


def _output_keys(
    outputs: list[str], names: list[str], description: str, notes: list[str]
) -> list[str] | None:
    """The feature of each output (None for a single matrix output)."""
    if len(outputs) == 1:
        return None
    if sorted(outputs) == sorted(names):
        return outputs
    if len(outputs) != len(names):
        raise TargetError(
            f"{description}: {len(outputs)} outputs ({', '.join(outputs)}) for {len(names)} "
            "features; expected one matrix or one output per feature"
        )
    notes.append("outputs are not named after the features: taken in lock order")
    return names


def is_torch_module(obj: Any) -> bool:
    """Whether ``obj`` is a torch ``nn.Module`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def torch_target(module: Any, description: str) -> Target:
    """Call a torch module on a tensor of the matrix (no gradients); a module with a lock
    attached (:class:`~normlock.export.torch_attach.AttachedModule`, also loaded from a
    file) is checked by its lock stage."""
    import torch

    from normlock.export.torch_attach import attached_stage

    stage = attached_stage(module)
    notes: tuple[str, ...] = ()
    if stage is not None:
        module = stage[1]
        notes = (f"a model with a lock attached: its lock stage (lock {stage[0][:16]}) is checked",)

    def run(matrix: np.ndarray) -> Any:
        with torch.no_grad():
            return module(torch.from_numpy(np.ascontiguousarray(matrix)))

    return Target(description, run, notes=notes)


def torch_file_target(path: Path) -> Target:
    """A TorchScript archive (``torch.jit.save``) or an exported program (``.pt2``)."""
    try:
        import torch
    except ImportError:
        raise TargetError(f"{str(path)!r} needs torch: pip install torch") from None
    try:
        if path.suffix.lower() == ".pt2":
            program = torch.export.load(str(path))
            attached = FINGERPRINT_BUFFER in program.state_dict
            module = torch.export.unflatten(program) if attached else program.module()
            kind = "torch.export program"
        else:
            with warnings.catch_warnings():  # TorchScript is deprecated, still served
                warnings.simplefilter("ignore", DeprecationWarning)
                module = torch.jit.load(str(path), map_location="cpu")
            kind = "TorchScript module"
    except Exception as exc:
        raise TargetError(
            f"{str(path)!r} is not a TorchScript archive or exported program ({exc}); save "
            "the module with torch.jit.save or torch.export.save (a pickled module is not "
            "loaded)"
        ) from None
    return torch_target(module, f"{kind} {path}")
