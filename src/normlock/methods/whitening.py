"""Whitening a group of columns from its mean and covariance: ``pca``, ``zca``, ``cholesky``.

Every method is one linear map after centering, ``y = W (x - mean)``, evaluated with the
canonical :func:`~normlock.methods.ops.combine`; its inverse is ``x = V y + mean``.
With ``Σ`` the covariance (ddof 1 by default, as scikit-learn's ``PCA(whiten=True)``),
first shrunk toward ``(tr Σ / d) I`` by a share ``α`` (declared, or Ledoit–Wolf's) and
then regularized with ``ε I``:

* ``pca``: the eigenvectors of ``Σ`` as rows, each divided by the root of its
  eigenvalue, largest first; optionally only the ``k`` leading ones, or the fewest whose
  eigenvalues hold a ``variance`` share (``V`` then maps back to the projection onto
  them, so the inverse is a reconstruction);
* ``zca``: ``Σ^(-1/2)``, the symmetric whitening closest to the identity (each output
  stays tied to its input);
* ``cholesky``: ``L^-1`` with ``Σ = L Lᵀ``: output ``i`` is input ``i`` decorrelated from
  the inputs before it.

With ``standardize``, pca and zca work on the correlation matrix instead (each column
divided by its standard deviation first), which columns on scales far apart need: the
decomposition's error is about ``eps·κ`` of the matrix it decomposes, and the outputs'
covariance on the training data is the identity to about ``d·eps·κ``. The fit records
that residual.

Eigenvectors have a fixed sign: the entry of largest magnitude is positive (the first
such entry on a tie), so a refit on the same covariance gives the same matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from normlock.errors import NotFittedError

METHODS = ("pca", "zca", "cholesky")
SINGULAR = 1e3 * np.finfo(np.float64).eps
"""An eigenvalue below this share of the largest makes a covariance singular: whitening
would divide by (nearly) zero."""


@dataclass(frozen=True)
class Whitening:
    """A fitted whitening: ``y = matrix @ (x - mean)``, ``x = inverse @ y + mean``.

    Attributes:
        method: ``pca``, ``zca`` or ``cholesky``.
        mean: the centers (``d``).
        matrix: the forward map (``k x d``; ``k = d`` but for a truncated PCA).
        inverse: the map back (``d x k``).
        variances: the eigenvalues of the matrix decomposed (the covariance after
            shrinkage and ``epsilon``, or its correlation matrix with ``standardize`` and
            for cholesky), largest first, all ``d`` of them.
        shrinkage: the share ``α`` of the shrinkage target.
        epsilon: the regularization added to the diagonal.
    """

    method: str
    mean: np.ndarray
    matrix: np.ndarray
    inverse: np.ndarray
    variances: np.ndarray
    shrinkage: float
    epsilon: float


def shrunk(covariance: np.ndarray, alpha: float) -> np.ndarray:
    """``(1 - α) Σ + α (tr Σ / d) I``: the covariance shrunk toward a scaled identity."""
    if alpha == 0.0:
        return covariance
    d = covariance.shape[0]
    target = np.trace(covariance) / d
    return (1.0 - alpha) * covariance + alpha * target * np.eye(d)


def ledoit_wolf(values: np.ndarray, counts: np.ndarray, mean: np.ndarray, rows: int) -> float:
    """Ledoit and Wolf's (2004) optimal shrinkage share toward ``(tr S / d) I``.

    ``S`` is the covariance (ddof 0) of the rows ``values`` (weighted by ``counts``), and
    the fourth moment it needs is their weighted mean of ``|x - mean|⁴``: with every row
    kept, the value scikit-learn's ``ledoit_wolf`` gives; with a sample of the ``rows``
    rows, its estimate.
    """
    centered = values - mean
    weights = counts / counts.sum()
    covariance = (centered * weights[:, None]).T @ centered
    d = covariance.shape[0]
    level = np.trace(covariance) / d
    spread = float(np.sum((covariance - level * np.eye(d)) ** 2)) / d
    fourth = float(weights @ np.sum(centered**2, axis=1) ** 2)
    noise = (fourth - float(np.sum(covariance**2))) / (d * rows)
    if spread <= 0.0:
        return 0.0
    return min(max(noise, 0.0), spread) / spread


def _signed(vectors: np.ndarray) -> np.ndarray:
    """Eigenvectors (columns) with the entry of largest magnitude made positive."""
    largest = np.argmax(np.abs(vectors), axis=0)
    signs = np.sign(vectors[largest, np.arange(vectors.shape[1])])
    return vectors * np.where(signs == 0, 1.0, signs)


def kept_components(variances: np.ndarray, components: int | None, share: float | None) -> int:
    """How many leading eigenvalues a PCA keeps: ``components``, or the fewest that hold
    ``share`` of their sum, else all."""
    if components is not None:
        return min(components, len(variances))
    if share is None:
        return len(variances)
    held = np.cumsum(variances) / np.sum(variances)
    return min(int(np.searchsorted(held, share)) + 1, len(variances))


def whiten(
    method: str,
    mean: np.ndarray,
    covariance: np.ndarray,
    *,
    epsilon: float = 0.0,
    shrinkage: float = 0.0,
    components: int | None = None,
    share: float | None = None,
    standardize: bool = False,
    label: str = "the group",
) -> Whitening:
    """The whitening of a group with this ``mean`` and ``covariance``.

    With ``standardize``, pca and zca decompose the correlation matrix (each column
    divided by its standard deviation first: "pca-cor", "zca-cor"), which columns on
    very different scales need. cholesky is the same map either way and always
    factors the correlation matrix, which keeps its digits on such columns.

    Raises:
        NotFittedError: the covariance (after shrinkage and ``epsilon``) is singular or
            not finite; the message starts with ``label`` and names the remedies.
    """
    d = covariance.shape[0]
    sigma = shrunk(covariance, shrinkage) + epsilon * np.eye(d)
    if not np.all(np.isfinite(sigma)):
        raise NotFittedError(
            f"{label}: the covariance is not finite (values too large to square); "
            "scale the columns down first"
        )
    spread = np.sqrt(np.diag(sigma))
    if not np.all(spread > 0):
        constant = [int(j) for j in np.flatnonzero(~(spread > 0))]
        raise NotFittedError(
            f"{label}: column(s) at position(s) {constant} are constant, so no whitening "
            "exists; drop them from the group or set 'epsilon'"
        )
    scaled = standardize or method == "cholesky"
    scales = spread if scaled else np.ones(d)
    inner = sigma / np.outer(scales, scales) if scaled else sigma
    variances, vectors = np.linalg.eigh(inner)
    order = np.argsort(-variances, kind="stable")
    variances, vectors = variances[order], _signed(vectors[:, order])
    k = kept_components(variances, components, share) if method == "pca" else d
    _check_singular(variances[:k], variances[0], label, scaled, sigma / np.outer(spread, spread))
    if method == "cholesky":
        import scipy.linalg

        lower = np.linalg.cholesky(inner)
        matrix = scipy.linalg.solve_triangular(lower, np.eye(d), lower=True) / scales
        return Whitening(
            method, mean, matrix, lower * scales[:, None], variances, shrinkage, epsilon
        )
    roots = np.sqrt(variances[:k])
    if method == "pca":
        matrix = vectors[:, :k].T / roots[:, None]
        inverse = vectors[:, :k] * roots
    else:
        matrix = (vectors / roots) @ vectors.T
        inverse = (vectors * roots) @ vectors.T
    return Whitening(
        method, mean, matrix / scales, inverse * scales[:, None], variances, shrinkage, epsilon
    )


def _check_singular(
    kept: np.ndarray, largest: float, label: str, scaled: bool, correlation: np.ndarray
) -> None:
    smallest = float(kept[-1]) if len(kept) else 0.0
    if largest > 0.0 and smallest > SINGULAR * largest:
        return
    ratio = smallest / largest if largest > 0 else math.nan
    found = f"smallest kept eigenvalue {smallest:.3g}, {ratio:.2g} of the largest"
    if not scaled:
        inner = np.linalg.eigvalsh(correlation)
        if inner[0] > SINGULAR * inner[-1]:
            raise NotFittedError(
                f"{label}: the covariance is too ill-conditioned to whiten in float64 ({found})"
                " because the columns' scales differ widely; set 'standardize: true' to "
                "whiten their correlations"
            )
    raise NotFittedError(
        f"{label}: the covariance is singular ({found}): a column is a combination of the "
        "others. Drop it, set 'epsilon' (e.g. 1e-8 times the variance), 'shrinkage', or "
        "for pca fewer 'components'"
    )
