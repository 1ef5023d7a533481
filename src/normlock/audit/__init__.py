"""The model side: a model's normalization layers, the input normalization it expects,
and the seam to the lock in front of it.

``normlock.audit(model, lock=None, sample=None, ...)`` (this package is callable: it
runs :func:`normlock.audit.api.audit`) returns an
:class:`~normlock.audit.findings.AuditReport`. Modules:

* :mod:`~normlock.audit.layers`: a normalization layer, framework-neutral;
  :mod:`~normlock.audit.torch_layers`, :mod:`~normlock.audit.exported_layers`,
  :mod:`~normlock.audit.onnx_layers` find them; :mod:`~normlock.audit.models` picks the
  framework's reader;
* :mod:`~normlock.audit.checks`: the per-layer checks; :mod:`~normlock.audit.sample`:
  running statistics against a sample's;
* :mod:`~normlock.audit.seam` and :mod:`~normlock.audit.lock_side`: the model's input
  layer against the lock; :mod:`~normlock.audit.expectations`: declared preprocessing
  (Hugging Face, timm, torchvision) against the lock;
* :mod:`~normlock.audit.render`: terminal table and HTML section.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from normlock.audit.api import audit
    from normlock.audit.findings import KINDS, AttachedLock, AuditReport, Finding, Thresholds
    from normlock.audit.layers import Layer, RunningStats

_LAZY = {
    "audit": "normlock.audit.api",
    "AttachedLock": "normlock.audit.findings",
    "AuditReport": "normlock.audit.findings",
    "Finding": "normlock.audit.findings",
    "KINDS": "normlock.audit.findings",
    "Thresholds": "normlock.audit.findings",
    "Layer": "normlock.audit.layers",
    "RunningStats": "normlock.audit.layers",
}

__all__ = [
    "KINDS",
    "AttachedLock",
    "AuditReport",
    "Finding",
    "Layer",
    "RunningStats",
    "Thresholds",
    "audit",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'normlock.audit' has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """This package, callable as the function it is named after: once a subpackage is
    imported, Python binds ``normlock.audit`` to it, so ``normlock.audit(model)`` must
    work on the package itself."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return import_module("normlock.audit.api").audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
