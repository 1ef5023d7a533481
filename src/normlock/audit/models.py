"""Which model the audit reads: an object, or a reference to one, loaded, then read into
an :class:`~normlock.audit.inspection.Inspection` by its framework's adapter."""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from normlock.audit.inspection import Inspection
from normlock.errors import InputError
from normlock.export import FINGERPRINT_BUFFER, LOCK_OUTPUT_KEY
from normlock.lock import Lock

TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts")
CONFIG_NAME = "preprocessor_config.json"
_KINDS = {
    ".onnx": "ONNX model",
    ".pt2": "torch.export program",
    **dict.fromkeys(TORCHSCRIPT_SUFFIXES, "TorchScript module"),
}


@dataclass(frozen=True)
class Loaded:
    """A model in memory.

    Attributes:
        model: a torch module, an ``ExportedProgram`` or an ``onnx.ModelProto``.
        description: what it is, for reports.
        config: a ``preprocessor_config.json`` found beside its file, if any.
    """

    model: Any
    description: str
    config: Path | None = None

    @property
    def carries_lock(self) -> bool:
        """Whether it is a combined model (a lock attached in front)."""
        model = self.model
        props = getattr(model, "metadata_props", None)
        if props is not None:
            return any(p.key == LOCK_OUTPUT_KEY for p in props)
        state = getattr(model, "state_dict", None)
        if isinstance(state, dict):  # an exported program's
            return FINGERPRINT_BUFFER in state
        named = getattr(model, "named_buffers", None)
        return named is not None and any(n == FINGERPRINT_BUFFER for n, _ in named(recurse=False))


def load(model: Any) -> Loaded:
    """``model`` in memory: a torch module, an ``onnx.ModelProto`` or a ``torch.export``
    program as it is, or a reference: a ``.onnx``, ``.pt2`` or TorchScript
    ``.pt``/``.pth``/``.ts`` file, or ``module:attr`` naming a module or a function that
    returns one."""
    if not isinstance(model, str | Path):
        return Loaded(model, f"{type(model).__module__}.{type(model).__qualname__}")
    text = str(model)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix in _KINDS:
        if not path.is_file():
            raise InputError(f"model file {text!r} does not exist")
        config = path.with_name(CONFIG_NAME)
        return Loaded(_read(path), f"{_KINDS[suffix]} {text}", config if config.is_file() else None)
    if ":" in text:
        from normlock.verify.targets import import_object

        found = import_object(text)
        torch = sys.modules.get("torch")
        if callable(found) and not (torch is not None and isinstance(found, torch.nn.Module)):
            found = found()
        return Loaded(found, text)
    raise InputError(
        f"cannot tell what model {text!r} is: give a .onnx, .pt2 (torch.export) or "
        ".pt/.pth/.ts (TorchScript) file, or module:attr naming a torch module"
    )


def inspect(loaded: Loaded, sample: Any, lock: Lock | None) -> Inspection:
    """The framework adapter's :class:`Inspection` of ``loaded``; a config file found
    beside the model is its declared preprocessing unless it carries its own."""
    found = _inspect(loaded.model, loaded.description, sample, lock)
    if found.pretrained is None:
        found.pretrained = loaded.config
    return found


def _inspect(model: Any, description: str, sample: Any, lock: Lock | None) -> Inspection:
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


def _read(path: Path) -> Any:
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
