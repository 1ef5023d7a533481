"""A lock's whitening groups in the torch module, with the bits of ``lock.transform``.

Each group emits :func:`~normlock.methods.ops.combine` as numpy runs it: center, then
``acc = c0 * W[:, 0]``, ``acc = acc + c1 * W[:, 1]``, ... in float64, one multiply and one
add per input (torch's eager elementwise kernels round each as IEEE does, with no fused
multiply-add), and one rounding to the output dtype. The module's output holds the lock's
:attr:`~normlock.lock.Lock.output_columns`: the plain columns as the chains give them,
each group's outputs in place of its columns.
"""

from __future__ import annotations

import torch
from torch import nn

from normlock.errors import DomainError
from normlock.export.torch_checks import COMPILED_MESSAGE
from normlock.groups.transform import output_positions
from normlock.lock import Lock


def combine(c: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """:func:`normlock.methods.ops.combine` on the last dimension of ``c``, in torch."""
    acc = c[..., 0:1] * matrix[:, 0]
    for j in range(1, matrix.shape[1]):
        acc = acc + c[..., j : j + 1] * matrix[:, j]
    return acc


class Whitening(nn.Module):
    """The lock's groups after its chains; :meth:`forward` gives the output columns."""

    def __init__(self, lock: Lock) -> None:
        super().__init__()
        self.names = tuple(g.name for g in lock.groups)
        for number, group in enumerate(lock.groups):
            positions = [lock.columns.index(c) for c in group.columns]
            self.register_buffer(f"positions{number}", torch.tensor(positions), persistent=False)
            self.register_buffer(f"mean{number}", torch.from_numpy(group.mean.copy()))
            self.register_buffer(f"matrix{number}", torch.from_numpy(group.matrix.copy()))
        layout = output_positions(lock.columns, lock.groups)
        self.register_buffer("layout", torch.tensor(layout), persistent=False)

    def forward(self, z: torch.Tensor, y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """The output columns from the chains' float64 outputs ``z`` and their rounded
        ``y`` (lock columns on the last dimension), groups rounded to ``dtype``."""
        parts = [y]
        for number, name in enumerate(self.names):
            x = z.index_select(-1, self.get_buffer(f"positions{number}"))
            mean, matrix = self.get_buffer(f"mean{number}"), self.get_buffer(f"matrix{number}")
            out = combine(x - mean, matrix).to(dtype)
            self._check(name, x, out)
            parts.append(out)
        return torch.cat(parts, dim=-1).index_select(-1, self.get_buffer("layout"))

    def _check(self, name: str, x: torch.Tensor, out: torch.Tensor) -> None:
        """Raise where ``lock.transform`` raises: finite inputs, a non-finite output."""
        bad = torch.isfinite(x).all(dim=-1) & ~torch.isfinite(out).all(dim=-1)
        if torch.compiler.is_compiling():
            torch._assert_async(~bad.any(), COMPILED_MESSAGE)
            return
        if bool(bad.any()):
            flat = bad.reshape(-1)
            row = int(flat.nonzero()[0, 0])
            values = x.reshape(-1, x.shape[-1])[row].detach().cpu().numpy()
            raise DomainError(
                f"group {name!r}, row {row}: finite inputs {values.tolist()} give a non-finite "
                f"{str(out.dtype).removeprefix('torch.')} output ({int(flat.sum())} such "
                "row(s)); they are far outside the training range, so check their units"
            )
