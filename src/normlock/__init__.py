"""normlock: fit normalization once, lock it into a sealed artifact, apply the same bits
everywhere.

>>> import numpy as np, normlock as nl
>>> lock = nl.fit({"x": np.array([1.0, 2.0, 3.0, 4.0])}, {"x": "minmax"})
>>> lock.transform({"x": np.array([4.0])})
{'x': array([1.])}
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from normlock.advise.advisor import advise
    from normlock.audit.api import audit
    from normlock.errors import (
        ColumnNotFoundError,
        DomainError,
        InputError,
        LockFormatError,
        LockIntegrityError,
        NormlockError,
        NormlockWarning,
        NotExportableError,
        NotFittedError,
        NotInvertibleError,
        SpecError,
    )
    from normlock.fitting import fit
    from normlock.lock import Lock, load

_LAZY = {
    "fit": "normlock.fitting",
    "Lock": "normlock.lock",
    "load": "normlock.lock",
    "ColumnNotFoundError": "normlock.errors",
    "DomainError": "normlock.errors",
    "InputError": "normlock.errors",
    "LockFormatError": "normlock.errors",
    "LockIntegrityError": "normlock.errors",
    "NormlockError": "normlock.errors",
    "NormlockWarning": "normlock.errors",
    "NotExportableError": "normlock.errors",
    "NotFittedError": "normlock.errors",
    "NotInvertibleError": "normlock.errors",
    "SpecError": "normlock.errors",
}

__all__ = [  # noqa: RUF022 - grouped: API first, then errors
    "__version__",
    "fit",
    "Lock",
    "load",
    "audit",
    "advise",
    "ColumnNotFoundError",
    "DomainError",
    "InputError",
    "LockFormatError",
    "LockIntegrityError",
    "NormlockError",
    "NormlockWarning",
    "NotExportableError",
    "NotFittedError",
    "NotInvertibleError",
    "SpecError",
]


_ENGINES = ("dask", "spark")  # submodules that import their engine, loaded when first used


def __getattr__(name: str) -> Any:
    if name in _ENGINES or name in ("audit", "advise"):  # callable packages, see their docs
        return import_module(f"normlock.{name}")
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'normlock' has no attribute {name!r}")
