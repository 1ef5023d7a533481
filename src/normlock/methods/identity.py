"""``identity``: the values as they are, as a checked, referenced float feature.

A whitening group's columns get it when the spec gives them no entry of their own: the
group does the centering and scaling, and each column still has its reference summary
(for drift monitoring) and its NaN/infinity policy.
"""

from __future__ import annotations

import numpy as np

from normlock.methods.base import Fitted, Method, Params
from normlock.methods.ops import Op
from normlock.stats import Summary


class Identity(Method):
    """``x`` itself (in float64, then the output dtype)."""

    name = "identity"

    def needs_data(self, config: Params) -> bool:
        return False

    def fit(self, config: Params, summary: Summary) -> Fitted:
        return Fitted({})

    def ops(self, params: Params) -> tuple[Op, ...]:
        return ()

    def inverse(self, params: Params, y: np.ndarray) -> np.ndarray:
        return y
