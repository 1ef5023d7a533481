"""``advise``: measure a table, recommend a spec, and show what it does to the numbers.

For each column it measures range, shape, tails and kinds of values
(:mod:`~normlock.advise.measure`) and recommends a method with its reason and the
alternatives it rejected (:mod:`~normlock.advise.recommend`). It then fits that spec on
the data and measures, before and after, the conditioning of a linear model's normal
equations (:mod:`~normlock.advise.conditioning`) and the precision risks of casting to
float16, bfloat16 and float32 (:mod:`~normlock.advise.precision`). When correlated
columns keep the conditioning poor after normalization, the spec whitens them in a zca
group.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from normlock.advise.conditioning import condition, correlated_pairs
from normlock.advise.measure import measure
from normlock.advise.precision import FORMATS, risks
from normlock.advise.recommend import Recommendation, recommend
from normlock.advise.report import Advice, Conditioning
from normlock.errors import ColumnNotFoundError, InputError, NormlockWarning
from normlock.frames import read_columns
from normlock.methods.ops import combine
from normlock.methods.whitening import whiten

MODELLED = ("continuous", "skewed", "bounded", "heavy-tailed", "multi-modal", "binary")
"""Kinds of columns a linear model reads as numbers (the conditioning covers them)."""
WHITEN_FROM = 100.0
"""A conditioning number after normalization from which correlated columns are whitened."""
CORRELATED = 0.9


def advise(
    data: Any, *, target: str | None = None, names: Sequence[str] | None = None, source: str = ""
) -> Advice:
    """Measure ``data`` and recommend how to normalize it.

    Args:
        data: a frame, a dict of columns or a 2-D array (as :func:`normlock.fit` takes).
        target: the target column, if any (a classification label gets no normalization).
        names: column names for a 2-D array.
        source: where the data came from, for the report.

    Returns:
        The :class:`~normlock.advise.report.Advice`; ``advice.spec()`` is a spec that
        :func:`normlock.fit` accepts as it is.

    Example:
        >>> import numpy as np, normlock as nl
        >>> rng = np.random.default_rng(0)
        >>> data = {"income": rng.lognormal(10, 1, 500), "age": rng.uniform(18, 90, 500)}
        >>> advice = nl.advise(data)
        >>> advice.spec()["features"]
        {'income': ['log1p', 'standard'], 'age': 'minmax'}
    """
    read = read_columns(data, names)
    if read.rows == 0:
        raise InputError("no rows to advise on")
    if target is not None and target not in read.names:
        raise ColumnNotFoundError.from_missing([target], read.names, where="the data (target)")
    columns = {n: np.asarray(read.arrays[n]) for n in read.names}
    measured = {n: measure(n, columns[n]) for n in read.names}
    advice = {n: recommend(measured[n], columns[n], target=n == target) for n in read.names}
    modelled = [n for n in read.names if n != target and advice[n].kind in MODELLED]
    raw = {n: columns[n].astype(np.float64) for n in modelled}
    entries = {n: "passthrough" if n == target else advice[n].entry for n in read.names}
    after = _normalized(columns, entries, modelled)
    groups: list[dict[str, Any]] = []
    pairs = correlated_pairs(modelled, [after[n] for n in modelled], CORRELATED)
    kappa_spec = condition([after[n] for n in modelled])
    whitened = _whitened([after[n] for n in modelled])
    kappa_white = condition(whitened) if whitened else float("nan")
    if pairs and kappa_spec >= WHITEN_FROM:
        group = _group(pairs, advice)
        if group:
            groups = [
                {"name": "correlated", "columns": group, "method": "zca", "standardize": True}
            ]
            for name in group:
                entries[name] = _prefix(advice[name])
            after = _normalized(columns, entries, modelled, groups)
    conditioning = Conditioning(
        columns=tuple(modelled),
        raw=condition([raw[n] for n in modelled]),
        normalized=condition([after[n] for n in modelled]),
        whitened=kappa_white,
        before_groups=kappa_spec,
        correlated=tuple(pairs),
    )
    precision = {
        n: {
            "before": tuple(risks(raw[n], f) for f in FORMATS.values()),
            "after": tuple(risks(after[n], f) for f in FORMATS.values()),
        }
        for n in modelled
    }
    return Advice(
        source=source,
        rows=read.rows,
        target=target,
        measurements=tuple(measured[n] for n in read.names),
        recommendations=tuple(advice[n] for n in read.names),
        entries=entries,
        groups=tuple(groups),
        conditioning=conditioning,
        precision=precision,
        samples={n: (raw[n], after[n]) for n in modelled},
    )


def _normalized(
    columns: Mapping[str, np.ndarray],
    entries: Mapping[str, Any],
    modelled: Sequence[str],
    groups: Sequence[Mapping[str, Any]] = (),
) -> dict[str, np.ndarray]:
    """The modelled columns after fitting and applying the spec ``entries``."""
    from normlock.fitting import fit

    spec = {"features": dict(entries), "groups": list(groups)} if groups else dict(entries)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NormlockWarning)
        lock = fit(dict(columns), spec)
    out = lock.transform({n: columns[n] for n in lock.columns})
    return {n: np.asarray(out[n], dtype=np.float64) for n in modelled}


def _whitened(columns: list[np.ndarray]) -> list[np.ndarray]:
    """The columns after a zca whitening of their correlations ([] when it cannot be)."""
    from normlock.errors import NotFittedError
    from normlock.stats.comoments import CoMoments

    if len(columns) < 2:
        return []
    moments = CoMoments.of(columns)
    try:
        fitted = whiten("zca", moments.mean(), moments.covariance(1), standardize=True)
    except NotFittedError:
        return []
    y = combine(np.column_stack(columns) - fitted.mean, fitted.matrix)
    return [y[:, j] for j in range(y.shape[1])]


def _group(
    pairs: Sequence[tuple[str, str, float]], advice: Mapping[str, Recommendation]
) -> list[str]:
    """The columns of the correlated pairs whose chains can go into a group (standard,
    robust, or a logarithm then standard), strongest pair first."""
    fits = {n for n, r in advice.items() if _prefix(r) is not None}
    members: list[str] = []
    for a, b, _ in pairs:
        for name in (a, b):
            if name in fits and name not in members:
                members.append(name)
    return members if len(members) >= 2 else []


def _prefix(advice: Recommendation) -> Any:
    """The part of a recommended chain a group keeps (it centers and scales itself, so a
    standard or robust scaling goes; a logarithm stays); None for a chain it cannot take."""
    if advice.entry in ("standard", "robust"):
        return "identity"
    if isinstance(advice.entry, list) and advice.entry[-1] == "standard":
        head = advice.entry[:-1]
        return head[0] if len(head) == 1 else head
    return None
