"""A scikit-learn transformer that fits and applies a lock.

:class:`NormlockTransformer` is a regular estimator: ``fit`` runs :func:`normlock.fit`
on the rows it is given (so in ``cross_val_score`` or ``GridSearchCV`` every training
fold gets its own lock, fitted on that fold only), ``transform`` runs
``lock.transform``, and ``set_output`` gives pandas or polars frames. Built from a
lock (``lock.to_sklearn()``), it is frozen: ``fit`` checks the columns and keeps the
lock, so a pipeline cannot refit normalization that was locked for serving.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import FLOAT_DTYPES, check_array, check_is_fitted, validate_data

from normlock.errors import InputError
from normlock.fitting import fit
from normlock.lock import Lock
from normlock.stats import DEFAULT_EXACT_LIMIT


class NormlockTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Normalization fitted into a lock, as a scikit-learn transformer.

    Args:
        spec: the spec, as for :func:`normlock.fit`; it names columns by the frame's
            column names, or ``x0, x1, ...`` for arrays.
        default: the method of columns the spec does not name.
        exact_limit: values a feature whose method reads order statistics keeps for
            exact quantiles (see :func:`normlock.fit`).
        lock: a fitted lock to apply as it is; ``fit`` then checks the columns only.

    Attributes:
        lock_: the fitted (or given) lock.
        n_features_in_: the number of input columns.
        feature_names_in_: the input column names, when fitted on a frame.

    Example:
        >>> import numpy as np
        >>> from normlock.sklearn import NormlockTransformer
        >>> X = np.array([[1.0, 10.0], [3.0, 30.0]])
        >>> NormlockTransformer({"x1": "minmax"}).fit_transform(X)
        array([[-1.,  0.],
               [ 1.,  1.]])
    """

    def __init__(
        self,
        spec: Any = None,
        *,
        default: str = "standard",
        exact_limit: int = DEFAULT_EXACT_LIMIT,
        lock: Lock | None = None,
    ) -> None:
        self.spec = spec
        self.default = default
        self.exact_limit = exact_limit
        self.lock = lock

    @classmethod
    def from_lock(cls, lock: Lock) -> NormlockTransformer:
        """A fitted, frozen transformer that applies ``lock``."""
        transformer = cls(lock=lock)
        transformer.lock_ = lock
        transformer.n_features_in_ = len(lock.columns)
        if lock.columns != tuple(f"x{i}" for i in range(len(lock.columns))):
            transformer.feature_names_in_ = np.array(lock.columns, dtype=object)
        return transformer

    def fit(self, X: Any, y: Any = None) -> NormlockTransformer:
        """Fit a lock on ``X`` (or, for a transformer made from a lock, check ``X``'s columns).

        Args:
            X: a 2-D array or a data frame of numeric columns.
            y: ignored.

        Returns:
            self
        """
        array = validate_data(self, X, dtype=FLOAT_DTYPES, ensure_all_finite=False)
        names = list(getattr(self, "feature_names_in_", [])) or None
        if self.lock is not None:
            self._check_columns(names, array.shape[1])
            self.lock_ = self.lock
        else:
            self.lock_ = fit(
                array,
                self.spec,
                default=self.default,
                exact_limit=self.exact_limit,
                names=names,
                sources=["scikit-learn fit"],
            )
        return self

    def _check_columns(self, names: list[str] | None, width: int) -> None:
        assert self.lock is not None
        expected = list(self.lock.columns)
        if (names is not None and names != expected) or width != len(expected):
            found = names if names is not None else f"{width} unnamed columns"
            raise InputError(
                f"this transformer applies a lock over columns {expected}, but fit got {found}; "
                "pass the same columns in the same order"
            )

    def transform(self, X: Any) -> np.ndarray:
        """Normalize ``X`` with the lock; float32 stays float32, other input becomes float64."""
        check_is_fitted(self)
        array = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES, ensure_all_finite=False)
        return self.lock_.transform(array)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Map normalized values (the lock's output columns) back to the input units."""
        check_is_fitted(self)
        array = check_array(X, dtype=FLOAT_DTYPES, ensure_all_finite=False)
        outputs = self.lock_.output_columns
        if array.shape[1] != len(outputs):
            raise InputError(
                f"inverse_transform needs the {len(outputs)} columns the transform returns "
                f"({list(outputs)}), got {array.shape[1]}"
            )
        return self.lock_.inverse_transform(array)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The names of the transform's columns: the input's, with each pca group's
        columns replaced by its components."""
        names = super().get_feature_names_out(input_features)
        outputs = self.lock_.output_columns
        return names if outputs == self.lock_.columns else np.asarray(outputs, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
