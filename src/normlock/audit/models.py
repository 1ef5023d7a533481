"""Which model the audit reads: an object, or a reference to one, resolved to an
:class:`~normlock.audit.inspection.Inspection` by its framework's adapter."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

from normlock.audit.inspection import Inspection
from normlock.errors import InputError
from normlock.lock import Lock

TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts")
CONFIG_NAME = "preprocessor_config.json"


def inspect(model: Any, sample: Any, lock: Lock | None) -> Inspection:
    """Read ``model``: a torch module, an ``onnx.ModelProto``, a ``torch.export``
    program, or a reference (``.onnx``, ``.pt2``, TorchScript ``.pt``/``.pth``/``.ts``
    file, or ``module:attr`` naming a module or a function that returns one).

    A model file with a Hugging Face ``preprocessor_config.json`` beside it takes that
    config as its declared preprocessing.
    """
    if isinstance(model, str | Path):
        return _from_reference(str(model), sample, lock)
    return _from_object(model, _describe(model), sample, lock)


def _describe(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


def _from_object(model: Any, description: str, sample: Any, lock: Lock | None) -> Inspection:
    kind = type(model)
    if kind.__module__.startswith("onnx") and kind.__name__ == "ModelProto":
        from normlock.audit.onnx_model import inspect_onnx

        return inspect_onnx(model, description, sample)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.export.ExportedProgram):
        from normlock.audit.exported_model import inspect_exported

        return inspect_exported(model, description, sample)
    if torch is not None and isinstance(model, torch.nn.Module):
        from normlock.audit.torch_model import inspect_torch

        return inspect_torch(model, description, sample, lock)
    raise InputError(
        f"cannot audit a {kind.__module__}.{kind.__name__}: pass a torch.nn.Module, an ONNX "
        "model, a torch.export program, or a .onnx/.pt2/.pt file"
    )


def _from_reference(text: str, sample: Any, lock: Lock | None) -> Inspection:
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix in (".onnx", ".pt2", *TORCHSCRIPT_SUFFIXES):
        if not path.is_file():
            raise InputError(f"model file {text!r} does not exist")
        found = _from_object(_load(path), f"{_KINDS[suffix]} {text}", sample, lock)
        config = path.with_name(CONFIG_NAME)
        if found.pretrained is None and config.is_file():
            found.pretrained = config
        return found
    if ":" in text:
        from normlock.verify.targets import import_object

        obj = import_object(text)
        if callable(obj) and not _is_model(obj):
            obj = obj()
        return _from_object(obj, text, sample, lock)
    raise InputError(
        f"cannot tell what model {text!r} is: give a .onnx, .pt2 (torch.export) or "
        ".pt/.pth/.ts (TorchScript) file, or module:attr naming a torch module"
    )


_KINDS = {
    ".onnx": "ONNX model",
    ".pt2": "torch.export program",
    **dict.fromkeys(TORCHSCRIPT_SUFFIXES, "TorchScript module"),
}


def _is_model(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _load(path: Path) -> Any:
    suffix = path.suffix.lower()
    try:
        if suffix == ".onnx":
            import onnx

            return onnx.load(str(path))
        import torch

        if suffix == ".pt2":
            return torch.export.load(str(path))
        with warnings.catch_warnings():  # TorchScript is deprecated, still served
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(path), map_location="cpu")
    except ImportError as exc:
        raise InputError(f"{str(path)!r} needs {exc.name}: pip install 'normlock[onnx]'") from None
    except Exception as exc:
        raise InputError(
            f"{str(path)!r} cannot be read as a {_KINDS[suffix]} ({type(exc).__name__}: {exc}); "
            "a pickled module is not loaded: save it with torch.jit.save or torch.export.save"
        ) from None
