"""``fit``: one streaming pass over the training data to a :class:`~normlock.lock.Lock`.

The pass summarizes each feature's raw values (its reference: counts, extrema, exact
moments) and, where a chain starts with steps that need no data (``log1p``), the values
after those steps. Beside them it keeps a sample of rows determined by their content
(:class:`~normlock.stats.sample.HashSample`), from which every feature's reference
quantiles come, and the row sketch of the leakage checks; both come from one row hash
computed in the same compiled pass. Only a step that reads order statistics or every
value (robust, quantile, clip percentiles, power) keeps its input's values, up to
``exact_limit``; past it, it reads the sample. Later steps that need data
(``["yeo-johnson", "standard"]``) are fitted on the kept values, or on a second read of
the source when it can be read again.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from normlock import __version__
from normlock.advise.checks import float16_warning, id_warning
from normlock.advise.targets import label_warning
from normlock.artifact import GROUPS_FORMAT_VERSION, TABULAR_FORMAT_VERSION
from normlock.chain import FeatureLock, Step
from normlock.errors import (
    InputError,
    NormlockError,
    NormlockWarning,
    NotFittedError,
    Origin,
)
from normlock.frames import is_container, read_columns
from normlock.io.files import SourcedBatch
from normlock.lock import Lock
from normlock.methods import get_method
from normlock.partial import FeatureState, PartialFit, run_steps
from normlock.reference import LazyReference, reference_of
from normlock.spec import PASSTHROUGH, Spec, load_spec
from normlock.stats import DEFAULT_EXACT_LIMIT, QuantileStore, Summary
from normlock.stats.kernel import run_parallel
from normlock.stats.sample import HashSample, SampledValues

ChunkSource = Callable[[], Iterator[Any]]


def _chunk_source(data: Any) -> tuple[ChunkSource, bool]:
    """A factory of chunk iterators, and whether the data can be read again."""
    if is_container(data):
        return (lambda: iter([data])), True
    if isinstance(data, list | tuple) and all(is_container(d) for d in data):
        return (lambda: iter(data)), True
    if callable(data):
        return data, True
    if isinstance(data, Iterable):
        return (lambda: iter(data)), False
    raise InputError(
        f"cannot fit on {type(data).__name__}: pass a frame, a dict of columns, a 2-D numpy "
        "array, a list or iterator of such chunks, or a function returning such an iterator"
    )


def fit(
    data: Any,
    spec: Mapping[str, Any] | str | Path | Spec | None = None,
    *,
    default: str | None = None,
    target: str | Any = None,
    target_spec: Any = "standard",
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    sources: list[str] | None = None,
    names: list[str] | None = None,
) -> Lock:
    """Fit normalization on training data and return a :class:`Lock`.

    Args:
        data: a pandas/polars DataFrame, a pyarrow Table, a dict of columns, a 2-D numpy
            array, or a list/iterator of such chunks (or a function returning a fresh
            iterator, which lets later chain steps re-read the data).
        spec: column -> method entries, or a YAML/JSON spec file (see :mod:`normlock.spec`).
            Unnamed numeric columns get ``default``.
        default: method for columns the spec does not name (``"standard"``), or
            ``"passthrough"``.
        target: name of the target column in ``data``, or a 1-D array of targets.
        target_spec: the target's spec entry (``"standard"`` by default).
        exact_limit: values a feature whose method reads order statistics (robust,
            quantile, clip percentiles, power) keeps for exact quantiles; past it they come
            from the row sample, with a stated rank-error bound
            (:mod:`normlock.stats.sample`). Other features keep no values.
        sources: names of the data sources, recorded in the lock's provenance.
        names: column names for 2-D numpy arrays (default ``x0, x1, ...``).

    Returns:
        The fitted lock.

    Example:
        >>> import numpy as np, normlock as nl
        >>> lock = nl.fit({"age": np.array([20.0, 30.0, 40.0])}, {"age": "minmax"})
        >>> lock.transform({"age": np.array([30.0])})
        {'age': array([0.5])}
    """
    resolved_spec = load_spec(spec, default)
    chunks, rereadable = _chunk_source(data)
    named = target if isinstance(target, str) else None
    partial = PartialFit(
        resolved_spec, target=named, target_spec=target_spec, exact_limit=exact_limit, names=names
    )
    for index, item in enumerate(chunks()):
        chunk, origin = _unwrap(item, partial.rows)
        partial.update(chunk, origin, index)
    lock = lock_from(
        partial,
        sources=list(sources or [_describe(data)]),
        replay=_replayer(chunks if rereadable else None, names, exact_limit),
        target=None if named is not None else target,
    )
    warn_of(lock, stacklevel=3)
    return lock


def warn_of(lock: Lock, stacklevel: int = 2) -> None:
    """Warn of each fitted feature's warnings (constant column, ...), from the caller
    ``stacklevel`` frames up."""
    for name, found in lock.warnings.items():
        for message in found:
            warnings.warn(f"feature {name!r}: {message}", NormlockWarning, stacklevel=stacklevel)
    for group in lock.groups:
        for message in group.warnings:
            warnings.warn(
                f"group {group.name!r}: {message}", NormlockWarning, stacklevel=stacklevel
            )


def lock_from(
    partial: PartialFit,
    *,
    sources: list[str],
    replay: Replay | None = None,
    target: Any = None,
) -> Lock:
    """The lock of a partial fit of all the training rows (merged from any split).

    Args:
        partial: the partial fit.
        sources: names of the data sources, for the lock's provenance.
        replay: how a chain's later step reads its input again (default: from the values
            kept in memory only).
        target: a 1-D array of targets, one per row, when the data has no target column.
    """
    if not partial.columns:
        raise InputError("no data to fit on: the source yielded no chunk")
    if partial.rows == 0:
        raise InputError("no data to fit on: every chunk was empty")
    replay = replay or _replayer(None, partial.names, partial.exact_limit)
    features = list(enumerate(partial.summaries()))
    # fits that select or sort quantiles (the GIL released) run on all cores
    spread = run_parallel if any(s.keeps_values for _, (s, _, _) in features) else _inline
    grouped = {column for group in partial.spec.groups for column in group.columns}
    locked = tuple(
        spread(
            lambda item: _fit_feature(
                *item[1], replay, partial.sample, item[0], item[1][0].spec.name in grouped
            ),
            features,
        )
    )
    target_lock = None
    found = partial.target_summary()
    if target is not None:
        target_lock = _fit_target_array(partial, target)
    elif found is not None:
        target_lock = _fit_target(*found, replay, partial.sample, len(features))
    has_target = target is not None or partial.target is not None
    groups = partial.fit_groups()
    return Lock(
        features=locked,
        columns=tuple(c for c in partial.columns if c != partial.target),
        passthrough=partial.passthrough,
        target=target_lock,
        spec={
            **partial.spec.as_written(),
            "target": partial.target_spec if has_target else None,
        },
        provenance={"sources": sources, "rows": partial.rows, "exact_limit": partial.exact_limit},
        created_at=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        library_version=__version__,
        row_sketch=partial.row_sketch if partial.states else None,
        groups=groups,
        format_version=GROUPS_FORMAT_VERSION if groups else TABULAR_FORMAT_VERSION,
    )


def _inline(function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return [function(item) for item in items]


def _unwrap(item: Any, rows_before: int) -> tuple[Any, Origin]:
    """A chunk and where its rows come from (file batches carry their file and row)."""
    if isinstance(item, SourcedBatch):
        return item.batch, item.origin
    return item, Origin(None, rows_before)


def _describe(data: Any) -> str:
    kind = type(data)
    return f"{kind.__module__.split('.')[0]}.{kind.__name__}"


Replay = Callable[[FeatureState, list[Step]], Summary]


def _replayer(chunks: ChunkSource | None, names: list[str] | None, exact_limit: int) -> Replay:
    """How to summarize a feature's values after fitted steps: from its first stage's
    values kept in memory, else from a second read of the source."""

    def replay(state: FeatureState, steps: list[Step]) -> Summary:
        name, later = state.spec.name, steps[len(state.prefix) :]
        if state.values is not None:
            kept = np.concatenate(state.values.parts or (np.empty(0),))
            return _exact_summary(run_steps(name, later, kept, Origin()), exact_limit)
        if chunks is None:
            raise NotFittedError(
                f"feature {name!r}: a later step of its chain needs the values again, but the "
                f"column has more than exact_limit={exact_limit} values and the data was a "
                "one-shot iterator; raise exact_limit or pass a function returning a fresh iterator"
            )
        summary = Summary.empty(exact_limit)
        rows = 0
        for item in chunks():
            chunk, origin = _unwrap(item, rows)
            read = read_columns(chunk, names)
            rows += read.rows
            raw = read.arrays[name]
            finite = raw[np.isfinite(raw.astype(np.float64))]
            summary = summary.update(run_steps(name, steps, finite, origin))
        return summary

    return replay


def _exact_summary(values: np.ndarray, exact_limit: int) -> Summary:
    """The summary of ``values`` with every finite one kept."""
    return Summary.empty(exact_limit).update(values)


def _first_values(
    state: FeatureState, sample: HashSample, j: int, limit: int
) -> QuantileStore | SampledValues:
    """What the chain's first step that needs data reads its quantiles from: the values
    kept, or past ``exact_limit`` (``limit``; or when the step reads none) the sample's."""
    if state.values is not None:
        return state.values
    if not state.prefix:
        return sample.column(j, limit)
    raw, counts = sample.values[:, j], sample.counts
    staged = run_steps(state.spec.name, list(state.prefix), raw, Origin())
    return SampledValues.of(staged, counts, not sample.saturated, limit)


def _fit_feature(
    state: FeatureState,
    raw: Summary,
    first_stage: Summary | None,
    replay: Replay,
    sample: HashSample,
    j: int,
    grouped: bool = False,
) -> FeatureLock:
    """Fit the chain of feature ``j`` of the pass (``sample``'s column ``j``), from the
    summary of its raw values and, with a prefix, of its values after the prefix
    (``grouped``: a column of a whitening group)."""
    spec = state.spec
    steps: list[Step] = []
    found: list[str] = []
    for position, step in enumerate(spec.steps):
        method = get_method(step.method)
        if not method.needs_data(step.options):
            summary = Summary.empty()
        elif position == len(state.prefix):
            summary = first_stage if first_stage is not None else raw
            if method.needs_values(step.options):
                summary = replace(
                    summary, quantiles=_first_values(state, sample, j, raw.quantiles.limit)
                )
        else:
            summary = replay(state, steps)
        try:
            fitted = method.fit(step.options, summary)
        except NormlockError as exc:
            raise type(exc)(f"feature {spec.name!r}: {exc}") from None
        steps.append(Step(method.name, fitted.params))
        found.extend(fitted.warnings)
    limit = raw.quantiles.limit
    locked = FeatureLock(
        name=spec.name,
        steps=tuple(steps),
        nan=spec.nan,
        inf=spec.inf,
        reference=LazyReference(
            lambda: reference_of(replace(raw, quantiles=sample.column(j, limit)))
        ),
        warnings=tuple(found),
    )
    return _checked(locked, raw, sample, j, grouped)


def _checked(
    feature: FeatureLock, raw: Summary, sample: HashSample, j: int, grouped: bool
) -> FeatureLock:
    """``feature`` with the advisor's cheap checks' warnings: an ID-like column, normalized
    training extremes that overflow float16 (not for a column of a whitening group)."""
    if raw.count == 0:
        return feature
    values = sample.values[:, j] if sample.values.shape[1] > j else np.empty(0)
    exact = not sample.saturated
    found = [id_warning(feature.name, raw.count, raw.min, raw.max, values, sample.counts, exact)]
    if not grouped:  # a group's outputs, not its columns, are what a model reads
        found.append(float16_warning(_normalized_extremes(feature, raw)))
    extra = tuple(w for w in found if w is not None)
    return replace(feature, warnings=(*feature.warnings, *extra)) if extra else feature


def _normalized_extremes(feature: FeatureLock, raw: Summary) -> tuple[float, ...]:
    """The feature's training extremes after its chain: for a one-step affine chain its
    ``(x - center) / scale`` on the two floats (what the transform computes in float64),
    else the chain run on them; none where an extreme is outside a later step's domain
    (the fit said so)."""
    affine = feature.affine()
    if affine is not None and affine[1] != 0.0:
        center, scale = affine
        return ((raw.min - center) / scale, (raw.max - center) / scale)
    try:
        return tuple(feature.apply(np.array([raw.min, raw.max])).tolist())
    except NormlockError:
        return ()


def _fit_target_array(partial: PartialFit, target: Any) -> FeatureLock:
    values = np.asarray(target)
    if values.ndim != 1 or len(values) != partial.rows:
        raise InputError(
            f"target must be a 1-D array with one value per row ({partial.rows}), got shape "
            f"{values.shape}"
        )
    alone = PartialFit(
        load_spec({"target": partial.target_spec}, PASSTHROUGH), exact_limit=partial.exact_limit
    )
    alone.update({"target": values})
    replay = _replayer(lambda: iter([{"target": values}]), None, partial.exact_limit)
    (found,) = alone.summaries()
    return _fit_target(*found, replay, alone.sample, 0)


def _fit_target(
    state: FeatureState,
    raw: Summary,
    first_stage: Summary | None,
    replay: Replay,
    sample: HashSample,
    j: int,
) -> FeatureLock:
    """:func:`_fit_feature` for the target, with a warning when it looks like a label."""
    locked = _fit_feature(state, raw, first_stage, replay, sample, j)
    column = sample.values[:, j]
    distinct = np.unique(column[np.isfinite(column)])
    found = label_warning(state.spec.name, distinct, not sample.saturated)
    return locked if found is None else replace(locked, warnings=(*locked.warnings, found))
