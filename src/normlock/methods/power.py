"""Power transforms with lambda by maximum likelihood, as SciPy computes it.

* Yeo-Johnson accepts any real value.
* Box-Cox needs strictly positive values.

The likelihood fit needs every value of the column in memory. The values are sorted
before the fit, so lambda does not depend on the order rows arrived in. A spec's
``standardize`` option (default true, as in scikit-learn) adds a ``standard`` step after.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from normlock.errors import NotFittedError
from normlock.methods.base import Fitted, Method, Params, require_values
from normlock.methods.ops import Op
from normlock.stats import Summary

_EPS = float(np.spacing(1.0))


def _values(method: str, summary: Summary) -> np.ndarray:
    require_values(method, summary)
    if not summary.quantiles.exact:
        raise NotFittedError(
            f"method {method!r} needs every value in memory, but the column has "
            f"{summary.count} values, more than exact_limit={summary.quantiles.limit}; "
            "raise exact_limit when fitting"
        )
    return np.asarray(summary.quantiles.sorted_values())


class YeoJohnson(Method):
    """Yeo-Johnson power transform."""

    name = "yeo-johnson"

    def needs_values(self, config: Params) -> bool:
        """Its lambda is fitted on every value."""
        return True

    def fit(self, config: Params, summary: Summary) -> Fitted:
        values = _values(self.name, summary)
        if values[0] == values[-1]:
            return Fitted({"lambda": 1.0}, ("constant column: lambda is 1 (identity)",))
        with np.errstate(over="ignore"):
            lmbda = float(stats.yeojohnson_normmax(values))
        return Fitted({"lambda": lmbda})

    def ops(self, params: Params) -> tuple[Op, ...]:
        return (Op(self.name, (params["lambda"],)),)

    def apply(self, params: Params, x: np.ndarray) -> np.ndarray:
        lmbda = params["lambda"]
        out = np.empty_like(x)
        with np.errstate(invalid="ignore"):
            positive = x >= 0
        negative = ~positive
        if abs(lmbda) < _EPS:
            out[positive] = np.log1p(x[positive])
        else:
            out[positive] = (np.power(x[positive] + 1, lmbda) - 1) / lmbda
        if abs(lmbda - 2) > _EPS:
            out[negative] = -(np.power(-x[negative] + 1, 2 - lmbda) - 1) / (2 - lmbda)
        else:
            out[negative] = -np.log1p(-x[negative])
        return out

    def inverse(self, params: Params, y: np.ndarray) -> np.ndarray:
        lmbda = params["lambda"]
        out = np.empty_like(y)
        with np.errstate(invalid="ignore"):
            positive = y >= 0
        negative = ~positive
        if abs(lmbda) < _EPS:
            out[positive] = np.expm1(y[positive])
        else:
            out[positive] = np.power(y[positive] * lmbda + 1, 1 / lmbda) - 1
        if abs(lmbda - 2) > _EPS:
            out[negative] = 1 - np.power(-(2 - lmbda) * y[negative] + 1, 1 / (2 - lmbda))
        else:
            out[negative] = -np.expm1(-y[negative])
        return out


class BoxCox(Method):
    """Box-Cox power transform; values ``x <= 0`` are an error."""

    name = "box-cox"

    def needs_values(self, config: Params) -> bool:
        """Its lambda is fitted on every value."""
        return True

    def fit(self, config: Params, summary: Summary) -> Fitted:
        values = _values(self.name, summary)
        if values[0] <= 0:
            raise NotFittedError(
                f"box-cox needs strictly positive values, the column's minimum is {values[0]!r}; "
                "use 'yeo-johnson', or add an offset with a 'log' step"
            )
        if values[0] == values[-1]:
            return Fitted({"lambda": 1.0}, ("constant column: lambda is 1",))
        with np.errstate(over="ignore"):
            lmbda = float(stats.boxcox_normmax(values, method="mle"))
        return Fitted({"lambda": lmbda})

    def ops(self, params: Params) -> tuple[Op, ...]:
        return (Op(self.name, (params["lambda"],)),)

    def apply(self, params: Params, x: np.ndarray) -> np.ndarray:
        return np.asarray(special.boxcox(x, params["lambda"]))

    def inverse(self, params: Params, y: np.ndarray) -> np.ndarray:
        return np.asarray(special.inv_boxcox(y, params["lambda"]))
