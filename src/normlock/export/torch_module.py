"""A lock as a ``torch.nn.Module``.

The module emits each method's operations (:mod:`normlock.methods.ops`) with torch,
in float64, and rounds once to the output dtype, so arithmetic methods give the same
bits as ``lock.transform``. Every constant is a float64 buffer: ``state_dict()``
holds the whole lock's parameters, ``.to(device)`` moves them, and a dtype cast
(``.to(torch.float16)``, ``.half()``, a parent module's cast) sets the output dtype
instead of rounding the constants. Constants stay runtime tensors, so compilers
cannot rewrite ``x / scale`` as ``x * (1 / scale)``.

The module also makes the checks of ``lock.transform`` (NaN/inf policies, domains,
overflow) and raises where it raises: eagerly with the same error, compiled or exported
with a graph assertion (see :mod:`normlock.export.torch_checks`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from normlock.errors import InputError
from normlock.export.plan import Group, Plan, Stage, plan
from normlock.export.torch_checks import NARROW, Checks, either
from normlock.lock import Lock
from normlock.methods.ops import ARGUMENTS, Op
from normlock.methods.quantile import BOUNDS_THRESHOLD, NORMAL_LIMIT

_EPS = float(np.spacing(1.0))


def to_torch(lock: Lock, *, feature_dim: int = -1) -> LockModule:
    """The lock as a module that normalizes tensors with one column per locked column.

    Args:
        lock: the lock.
        feature_dim: the dimension that holds the columns, in the lock's column order
            (``-1`` for a ``(rows, columns)`` matrix, ``1`` for ``NCHW`` images whose
            channels are the features).

    Returns:
        The module. float32 (and float16/bfloat16) input gives float32 output, other
        input float64, as ``lock.transform`` does, unless a dtype was set with ``.to``.

    Example:
        >>> import numpy as np, torch, normlock as nl
        >>> lock = nl.fit({"a": np.array([1.0, 2.0, 3.0])}, {"a": "minmax"})
        >>> lock.to_torch()(torch.tensor([[2.0]]))
        tensor([[0.5000]])
    """
    whitening = None
    if lock.groups:
        from normlock.export.torch_groups import Whitening

        whitening = Whitening(lock)
    return LockModule(plan(lock, _unsupported, "torch"), feature_dim, whitening)


def _unsupported(op: Op) -> str | None:
    return None if op.kind in _MODULES else f"no torch operation for {op.kind!r}"


class LockModule(nn.Module):
    """Normalizes a tensor whose ``feature_dim`` holds the lock's columns, in order.

    Attributes:
        columns: the lock's columns, in the order the input holds them.
        feature_dim: the dimension that holds the columns.
        output_dtype: the dtype set with ``.to(dtype)``; None follows the input.
        whitening: the lock's whitening groups (None without), after which the output
            holds the lock's ``output_columns``.
    """

    def __init__(self, layout: Plan, feature_dim: int, whitening: nn.Module | None = None) -> None:
        super().__init__()
        self.columns: tuple[str, ...] = layout.columns
        self.whitening = whitening
        self.feature_dim = feature_dim
        self.output_dtype: torch.dtype | None = None
        self.groups = nn.ModuleList(_GroupModule(g, len(layout.groups) == 1) for g in layout.groups)
        self.reorder = not layout.in_order
        restore = torch.from_numpy(np.argsort(np.array(layout.order, dtype=np.int64)))
        self.register_buffer("restore", restore, persistent=False)
        self.checks = Checks(layout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize ``x``; the result has ``x``'s shape (with a pca group, its
        ``feature_dim`` holds the lock's ``output_columns``).

        Raises:
            DomainError: (eager) where ``lock.transform`` raises, with its message.
            RuntimeError: (compiled or exported) where ``lock.transform`` raises.
        """
        if x.shape[self.feature_dim] != len(self.columns):
            raise InputError(
                f"the tensor has {x.shape[self.feature_dim]} entries along dimension "
                f"{self.feature_dim} but the lock has {len(self.columns)} columns "
                f"({', '.join(self.columns[:10])}); pass them in this order"
            )
        moved = self.feature_dim not in (-1, x.dim() - 1)
        z = x.to(torch.float64)
        if moved:
            z = torch.movedim(z, self.feature_dim, -1)
        parts = [group(z) for group in self.groups]
        chained = self._assemble([out for out, _ in parts])
        y = chained.to(self._output_dtype(x.dtype))
        domain = None
        if any(found is not None for _, found in parts):
            domain = self._assemble(
                [torch.zeros_like(out, dtype=torch.bool) if d is None else d for out, d in parts]
            )
        self.checks(z, y, domain, x.dtype)
        if self.whitening is not None:
            y = self.whitening(chained, y, y.dtype)
        return torch.movedim(y, -1, self.feature_dim) if moved else y

    def _assemble(self, parts: list[torch.Tensor]) -> torch.Tensor:
        """The groups' columns side by side, in the lock's order."""
        z = parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
        return z.index_select(-1, self.restore) if self.reorder else z

    def _output_dtype(self, dtype: torch.dtype) -> torch.dtype:
        if self.output_dtype is not None:
            return self.output_dtype
        return torch.float32 if dtype in NARROW else torch.float64

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> Any:
        """Move buffers to the new device but keep them float64; a cast sets the output dtype."""
        wide = fn(torch.zeros(1, dtype=torch.float64))
        narrow = fn(torch.zeros(1, dtype=torch.float32))
        if (wide.dtype, narrow.dtype) != (torch.float64, torch.float32):  # a cast
            cast = wide.dtype if wide.dtype != torch.float64 else narrow.dtype
            if cast not in (*NARROW, torch.float64):
                raise InputError(f"a normlock module outputs floats; it cannot become {cast}")
            self.output_dtype = cast
        device = wide.device
        return super()._apply(lambda t: t.to(device=device), recurse)

    def extra_repr(self) -> str:
        return f"columns={len(self.columns)}, feature_dim={self.feature_dim}"


class _GroupModule(nn.Module):
    """The chain of one group of features, on the columns it selects."""

    def __init__(self, group: Group, alone: bool) -> None:
        super().__init__()
        self.select = not alone
        self.register_buffer("index", torch.tensor(group.positions), persistent=False)
        self.stages = nn.ModuleList(_MODULES[s.kind](s) for s in group.stages)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The group's outputs, and where a value left an operation's domain (None when
        no operation has a bound)."""
        if self.select:
            z = z.index_select(-1, self.index)
        domain = None
        for stage in self.stages:
            if stage.bound is not None:
                domain = either(domain, z <= stage.bound)
            z = stage(z)
        return z, domain


class _Stage(nn.Module):
    """An operation whose float64 constants are buffers named after its arguments."""

    def __init__(self, stage: Stage) -> None:
        super().__init__()
        self.args = stage.args[0]
        """The first feature's arguments (the only feature of a non-linear stage)."""
        self.bound = stage.bound
        for index, name in enumerate(ARGUMENTS[stage.kind]):
            values = stage.argument(index)
            if isinstance(values[0], tuple):  # a table, in a one-feature stage
                self.register_buffer(name, torch.tensor(values[0], dtype=torch.float64))
            elif not isinstance(values[0], str):
                self.register_buffer(name, torch.tensor(values, dtype=torch.float64))


class _Sub(_Stage):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - self.value


class _Add(_Stage):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.value


class _Mul(_Stage):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.value


class _Div(_Stage):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / self.value


def clip(x: torch.Tensor, low: Any, high: Any) -> torch.Tensor:
    """numpy's ``clip``: NaN and ``-0.0`` at a ``0.0`` bound stay as they are."""
    x = torch.where(x < low, low, x)
    return torch.where(x > high, high, x)


class _Clip(_Stage):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return clip(x, self.low, self.high)


class _Log(_Stage):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(x)


class _Log1p(_Stage):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log1p(x)


class _YeoJohnson(_Stage):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lmbda = self.args[0]
        if abs(lmbda) < _EPS:
            positive = torch.log1p(x)
        else:
            positive = (torch.pow(x + 1, self.lmbda) - 1) / self.lmbda
        if abs(lmbda - 2) > _EPS:
            other = 2 - self.lmbda
            negative = -(torch.pow(-x + 1, other) - 1) / other
        else:
            negative = -torch.log1p(-x)
        return torch.where(x >= 0, positive, negative)


def expm1(y: torch.Tensor) -> torch.Tensor:
    """``expm1`` as ``(u - 1) * (y / log(u))`` with ``u = exp(y)``.

    ``torch.expm1`` is accurate in eager mode, but inductor compiles it as
    ``exp(y) - 1``, which loses most digits near 0; this form is accurate in both.
    """
    u = torch.exp(y)
    shifted = u - 1
    value = torch.where(shifted == -1, shifted, shifted * (y / torch.log(u)))
    value = torch.where(torch.isinf(u), u, value)
    return torch.where(u == 1, y, value)


class _BoxCox(_Stage):
    """SciPy's ``boxcox``, branch for branch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if abs(self.args[0]) < 1e-19:
            return torch.log(x)
        y = self.lmbda * torch.log(x)
        large = torch.sign(self.lmbda) * torch.exp(y - torch.log(torch.abs(self.lmbda)))
        return torch.where(y < 709.78, expm1(y) / self.lmbda, large - 1 / self.lmbda)


def interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """``numpy.interp``, case for case (``xp`` increasing, at least two points)."""
    j = (torch.searchsorted(xp, x.contiguous(), right=True) - 1).clamp(0, xp.shape[0] - 2)
    x0, x1, y0, y1 = xp[j], xp[j + 1], fp[j], fp[j + 1]
    slope = (y1 - y0) / (x1 - x0)
    out = slope * (x - x0) + y0
    out = torch.where(torch.isnan(out), slope * (x - x1) + y1, out)
    out = torch.where(torch.isnan(out) & (y0 == y1), y0, out)
    out = torch.where(x == x0, y0, out)
    out = torch.where(x >= xp[-1], fp[-1], out)
    out = torch.where(x < xp[0], fp[0], out)
    return torch.where(torch.isnan(x), x, out)


class _Quantile(_Stage):
    """The quantile map of :mod:`normlock.methods.quantile`, operation for operation."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, r = self.quantiles, self.references
        forward = interp(x, q, r)
        backward = interp(-x, -q.flip(0), -r.flip(0))
        out = 0.5 * (forward - backward)
        normal = self.args[2] == "normal"
        if normal:
            at_low, at_high = x - BOUNDS_THRESHOLD < q[0], x + BOUNDS_THRESHOLD > q[-1]
        else:
            at_low, at_high = x == q[0], x == q[-1]
        out = torch.where(at_low, 0.0, torch.where(at_high, 1.0, out))
        if not normal:
            return out
        return clip(torch.special.ndtri(out), NORMAL_LIMIT, -NORMAL_LIMIT)


_MODULES: dict[str, type[_Stage]] = {
    "sub": _Sub,
    "add": _Add,
    "mul": _Mul,
    "div": _Div,
    "clip": _Clip,
    "log": _Log,
    "log1p": _Log1p,
    "yeo-johnson": _YeoJohnson,
    "box-cox": _BoxCox,
    "quantile": _Quantile,
}
