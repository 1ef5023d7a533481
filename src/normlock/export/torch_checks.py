"""The checks of ``lock.transform`` in the torch module, and the error they raise.

A value is rejected, as ``lock.transform`` rejects it, when it is NaN and its feature's
policy is ``nan: error``, ±inf under ``inf: error``, when it reaches an operation of
:data:`~normlock.methods.ops.DOMAIN_BOUNDS` at or below its bound, or when it is finite
and its output is not (overflow, in the module's output dtype). Passthrough columns are
never checked.

* Eager: :class:`~normlock.errors.DomainError`, with the message ``lock.transform``
  gives for the first rejected feature (in the lock's order) and row. Checking costs a
  host synchronisation per call on an accelerator.
* ``torch.compile`` and ``torch.export``: the check is a graph operation,
  ``torch._assert_async``, which compiles with ``fullgraph=True`` and stays in an
  exported program; it raises a ``RuntimeError`` with :data:`COMPILED_MESSAGE` (no
  feature or row: a compiled graph cannot build one). On CUDA it is a device-side
  assertion, which leaves the CUDA context unusable for the rest of the process.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from normlock.errors import DomainError
from normlock.export.plan import Plan

COMPILED_MESSAGE = (
    "normlock: the input holds a value the lock rejects (NaN or inf under an 'error' "
    "policy, a value outside a step's domain, or an output that overflows); run the "
    "module eagerly or lock.transform on this batch to name the feature and row"
)
"""The message of the ``RuntimeError`` a compiled or exported module raises."""

NARROW = (torch.float16, torch.bfloat16, torch.float32)
"""Input dtypes whose output is float32 (as lock.transform gives for float16 and float32)."""

_POLICIES = {
    "nan_error": lambda f: f.nan == "error",
    "inf_error": lambda f: f.inf == "error",
    "normalized": lambda f: True,
}
"""Buffer name -> which features' columns it marks."""


def either(first: torch.Tensor | None, second: torch.Tensor | None) -> torch.Tensor | None:
    """The ``|`` of two masks, either of which may be absent."""
    if first is None or second is None:
        return first if second is None else second
    return first | second


class Checks(nn.Module):
    """Finds the values ``lock.transform`` rejects and raises for them.

    Its buffers mark, per column, the features under ``nan: error`` and ``inf: error``
    and the normalized columns (None when no column is marked).
    """

    def __init__(self, layout: Plan) -> None:
        super().__init__()
        self.columns = layout.columns
        self.features = layout.features
        for name, test in _POLICIES.items():
            marked = layout.columns_where(test)
            self.register_buffer(name, torch.tensor(marked) if any(marked) else None, False)

    def forward(
        self, x: torch.Tensor, y: torch.Tensor, domain: torch.Tensor | None, given: torch.dtype
    ) -> None:
        """Raise if ``lock.transform`` would.

        Args:
            x: the input in float64, the columns on the last dimension in lock order.
            y: the output, same layout.
            domain: where a value left an operation's domain (None: nowhere it could).
            given: the input's dtype (``lock.transform``'s output dtype follows it).
        """
        mask = domain
        if self.nan_error is not None:
            mask = either(mask, torch.isnan(x) & self.nan_error)
        if self.inf_error is not None:
            mask = either(mask, torch.isinf(x) & self.inf_error)
        if self.normalized is not None:
            mask = either(mask, torch.isfinite(x) & ~torch.isfinite(y) & self.normalized)
        if mask is None:
            return
        if torch.compiler.is_compiling():
            torch._assert_async(~mask.any(), COMPILED_MESSAGE)
        elif bool(mask.any()):
            raise self._rejection(x, mask, y.dtype, given)

    def _rejection(
        self, x: torch.Tensor, mask: torch.Tensor, out: torch.dtype, given: torch.dtype
    ) -> DomainError:
        """``lock.transform``'s error for the first rejected feature; rows count the
        positions along the other dimensions, flattened."""
        rejected = mask.reshape(-1, len(self.columns)).any(dim=0).tolist()
        feature = next(f for f in self.features if rejected[self.columns.index(f.name)])
        j = self.columns.index(feature.name)
        dtype = np.float32 if given in NARROW else np.float64  # holds the input exactly
        values = x[..., j].detach().reshape(-1).cpu().numpy().astype(dtype)
        try:
            feature.apply(values)
        except DomainError as error:
            return error
        row = int(mask[..., j].reshape(-1).nonzero()[0, 0])
        return DomainError(  # overflow in an output dtype set with .to(), narrower than transform's
            f"feature {feature.name!r}, row {row}: the finite input {float(values[row])!r} gives a "
            f"non-finite {str(out).removeprefix('torch.')} output (the module's output dtype, "
            "set with .to()); it is far outside the training range, so check its units"
        )
