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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from normlock import __version__
from normlock.advise.targets import label_warning
from normlock.chain import FeatureLock, Step, as_float64
from normlock.errors import (
    ColumnNotFoundError,
    InputError,
    NormlockError,
    NormlockWarning,
    NotFittedError,
    Origin,
)
from normlock.frames import Columns, is_container, is_numeric, read_columns
from normlock.io.files import SourcedBatch
from normlock.lock import Lock
from normlock.methods import get_method
from normlock.reference import LazyReference, reference_of
from normlock.spec import PASSTHROUGH, FeatureSpec, Spec, load_spec, resolve, resolve_single
from normlock.stats import DEFAULT_EXACT_LIMIT, QuantileStore, Summary
from normlock.stats.kernel import HASH_BITS, column_moments, run_parallel, wide_row_hashes
from normlock.stats.rows import RowSketch
from normlock.stats.sample import HashSample, SampledValues

ChunkSource = Callable[[], Iterator[Any]]


@dataclass
class _FeatureState:
    """Running summaries of one feature during the pass."""

    spec: FeatureSpec
    prefix: tuple[Step, ...]  # the leading steps that need no data, fitted once
    reference: Summary  # counts, extrema and moments of the raw values
    first_stage: Summary | None  # the same after the prefix, when the prefix is not empty
    keeps_values: bool  # whether the chain reads the first stage's values themselves
    values: QuantileStore | None  # those values while they fit exact_limit, else None


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
        exact_limit: values per feature kept exactly for quantiles; past it a uniform
            sample with a stated rank-error bound (see :mod:`normlock.stats.quantiles`).
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
    target_name = target if isinstance(target, str) else None
    columns: tuple[str, ...] = ()
    passthrough: list[str] = []
    rows = 0
    target_state = None
    if target is not None:
        target_state = _new_state(resolve_single(target_name or "target", target_spec), exact_limit)
    fitted = _Pass({})
    for index, item in enumerate(chunks()):
        chunk, origin = _unwrap(item, rows)
        read = read_columns(chunk, names)
        if index == 0:
            columns = read.names
            features = _resolve(resolved_spec, read, target_name, origin)
            passthrough = [f.name for f in features if f.passthrough]
            states = {f.name: _new_state(f, exact_limit) for f in features if not f.passthrough}
            carried = (
                {} if target_state is None or target_name is None else {target_name: target_state}
            )
            fitted = _Pass(states, carried)
        else:
            _check_same_columns(read, columns, index)
        fitted.update(read, origin)
        rows += read.rows
    if not columns:
        raise InputError("no data to fit on: the source yielded no chunk")
    if rows == 0:
        raise InputError("no data to fit on: every chunk was empty")
    replay = _replayer(chunks if rereadable else None, names, exact_limit)
    features = list(enumerate(fitted.states.values()))
    # fits that select or sort quantiles (the GIL released) run on all cores
    spread = run_parallel if any(s.keeps_values for s in fitted.states.values()) else _inline
    locked = tuple(
        spread(lambda item: _fit_feature(item[1], replay, fitted.sample, item[0]), features)
    )
    target_lock = None
    if target_state is not None:
        if target_name is None:
            target_lock = _fit_target_array(target_state, target, rows, exact_limit)
        else:
            target_lock = _fit_target(target_state, replay, fitted.sample, len(fitted.states))
    lock = Lock(
        features=locked,
        columns=tuple(c for c in columns if c != target_name),
        passthrough=tuple(passthrough),
        target=target_lock,
        spec={**resolved_spec.as_written(), "target": target_spec if target is not None else None},
        provenance={
            "sources": list(sources or [_describe(data)]),
            "rows": rows,
            "exact_limit": exact_limit,
        },
        created_at=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        library_version=__version__,
        row_sketch=fitted.row_sketch if fitted.states else None,
    )
    for name, found in lock.warnings.items():
        for message in found:
            warnings.warn(f"feature {name!r}: {message}", NormlockWarning, stacklevel=2)
    return lock


def _inline(function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return [function(item) for item in items]


def _unwrap(item: Any, rows_before: int) -> tuple[Any, Origin]:
    """A chunk and where its rows come from (file batches carry their file and row)."""
    if isinstance(item, SourcedBatch):
        return item.batch, Origin(item.path, item.first_row)
    return item, Origin(None, rows_before)


def _describe(data: Any) -> str:
    kind = type(data)
    return f"{kind.__module__.split('.')[0]}.{kind.__name__}"


def _resolve(
    spec: Spec, read: Columns, target_name: str | None, origin: Origin
) -> list[FeatureSpec]:
    names = [n for n in read.names if n != target_name]
    if target_name is not None and target_name not in read.names:
        raise ColumnNotFoundError.from_missing([target_name], read.names, where="the data (target)")
    numeric = {n: is_numeric(read.arrays[n]) or _numeric_text(spec, n, read, origin) for n in names}
    return resolve(spec, names, numeric)


def _numeric_text(spec: Spec, name: str, read: Columns, origin: Origin) -> bool:
    """Whether a text column holds numbers (as CSV columns with one bad value do).

    A column whose first value is a number but a later one is not raises an error naming
    that value's row; a column of text (first value not a number) is simply not numeric.
    """
    values = read.arrays[name]
    if spec.entries.get(name) == PASSTHROUGH or not len(values) or values.dtype.kind not in "OUS":
        return False
    try:
        float(values[0])
    except (TypeError, ValueError):
        return False
    as_float64(name, values, origin)  # raises for the first value that is no number
    return True


def _new_state(feature: FeatureSpec, exact_limit: int) -> _FeatureState:
    prefix: list[Step] = []
    for step in feature.steps:
        method = get_method(step.method)
        if method.needs_data(step.options):
            break
        prefix.append(Step(method.name, method.fit(step.options, Summary.empty()).params))
    later = [(get_method(step.method), step.options) for step in feature.steps[len(prefix) :]]
    data_steps = [(method, options) for method, options in later if method.needs_data(options)]
    # a second step that needs data is fitted on the first one's output: the values again
    keeps = len(data_steps) > 1 or any(method.needs_values(o) for method, o in data_steps)
    first_stage = Summary.empty(exact_limit) if prefix else None
    values = QuantileStore(exact_limit) if keeps else None
    return _FeatureState(
        feature, tuple(prefix), Summary.empty(exact_limit), first_stage, keeps, values
    )


def _check_same_columns(read: Columns, columns: tuple[str, ...], index: int) -> None:
    if set(read.names) != set(columns):
        missing = sorted(set(columns) - set(read.names))
        extra = sorted(set(read.names) - set(columns))
        raise InputError(
            f"chunk {index} has different columns from chunk 0 (missing: {missing}, extra: "
            f"{extra}); every chunk must have the same columns"
        )


def _check_policies(state: _FeatureState, chunk: Summary, raw: np.ndarray, origin: Origin) -> None:
    """Raise for NaN or infinite values the feature's policy forbids (found by the counts)."""
    checks = (
        (state.spec.nan, chunk.nan, np.isnan, "NaN/missing", "nan"),
        (state.spec.inf, chunk.posinf + chunk.neginf, np.isinf, "infinite", "inf"),
    )
    for policy, found, test, what, option in checks:
        if policy == "error" and found:
            row = int(np.flatnonzero(test(raw.astype(np.float64)))[0])
            raise InputError(
                f"feature {state.spec.name!r}, {origin.at(row)}: {what} value ({found} in this "
                f"chunk) but its policy forbids it; clean the data or set {option}='keep' in "
                "the spec"
            )


def _columns(read: Columns, names: list[str]) -> list[np.ndarray]:
    """The named columns as 1-D float arrays (float32 and float64 as they are)."""
    arrays = read.arrays
    return [
        arrays[n] if arrays[n].dtype in (np.float32, np.float64) else as_float64(n, arrays[n])
        for n in names
    ]


def _block(read: Columns, names: list[str]) -> np.ndarray | list[np.ndarray]:
    """The feature columns: the input matrix itself when it is one, else a list of 1-D
    float arrays, with no copy into a matrix."""
    matrix = read.matrix
    if (
        matrix is not None
        and list(read.names) == names
        and matrix.dtype in (np.float32, np.float64)
    ):
        return matrix
    return _columns(read, names)


class _Pass:
    """What the pass gathers over every chunk: the features' summaries, the row sketch
    and the sample of rows (the features' values, then those of ``carried`` columns, a
    named target, which the sample keeps but does not hash)."""

    def __init__(
        self, states: dict[str, _FeatureState], carried: dict[str, _FeatureState] | None = None
    ) -> None:
        self.states = states
        self.carried = carried or {}
        self.row_sketch = RowSketch()
        self.sample = HashSample.empty(len(states) + len(self.carried), len(self.carried))

    def update(self, read: Columns, origin: Origin) -> None:
        """Fold one chunk in: one compiled pass over the features gives their moments
        and the row hashes that the sketch and the sample need."""
        if not self.states:
            return
        names = list(self.states)
        block = _block(read, names)
        columns = _split(block)
        sketch_cut = self.row_sketch.cut(read.rows) << (64 - HASH_BITS)
        sample_cut = self.sample.cut(read.rows)
        found = column_moments(block, hash_below=max(sketch_cut, sample_cut))
        summaries = [Summary.of_moments(m) for m in found.moments]
        kept = _kept_columns(columns, list(self.states.values()))
        for j, (state, chunk) in enumerate(zip(self.states.values(), summaries, strict=True)):
            _fold(state, chunk, columns[j], origin, kept.get(j))
        carried = []
        for name, state in self.carried.items():
            raw = _columns(read, [name])[0]
            (chunk,) = [Summary.of_moments(m) for m in column_moments([raw]).moments]
            _fold(state, chunk, raw, origin)
            carried.append(raw)
        if found.hashes is None or found.rows is None:  # a pass asked for hashes has them
            raise AssertionError("the compiled pass returned no row hashes")
        order = np.argsort(found.hashes)  # one sort serves the sketch and the sample
        hashes, rows = found.hashes[order], found.rows[order]
        self._update_sketch(hashes[: _below(hashes, sketch_cut)], columns, sketch_cut)
        taken = _below(hashes, sample_cut)
        sampled = self.sample.update(hashes[:taken], rows[:taken], block, carried, sample_cut)
        while sampled is None:  # too few distinct rows below the cut: every row's hash
            every = wide_row_hashes(columns)
            order = np.argsort(every)
            sampled = self.sample.update(every[order], order, block, carried, 2**64)
        self.sample = sampled

    def _update_sketch(self, hashes: np.ndarray, columns: list[np.ndarray], cut: int) -> None:
        """The row sketch from the chunk's ascending wide hashes below ``cut``."""
        shift = np.uint64(64 - HASH_BITS)
        ours = hashes >> shift
        distinct = ours[np.concatenate(([True], ours[1:] != ours[:-1]))] if len(ours) else ours
        updated = self.row_sketch.update_below(distinct, len(columns[0]), cut >> int(shift))
        self.row_sketch = updated if updated is not None else self.row_sketch.update(columns)


def _below(ascending: np.ndarray, cut: int) -> int:
    """How many of the ``ascending`` 64-bit hashes are below ``cut`` (up to ``2**64``)."""
    return len(ascending) if cut >= 2**64 else int(np.searchsorted(ascending, np.uint64(cut)))


def _split(block: np.ndarray | list[np.ndarray]) -> list[np.ndarray]:
    if isinstance(block, np.ndarray):
        return [block[:, j] for j in range(block.shape[1])]
    return block


def _kept_columns(columns: list[np.ndarray], states: list[_FeatureState]) -> dict[int, np.ndarray]:
    """Float64 copies of the raw columns whose values the features keep, made on all
    cores."""
    wanted = [j for j, s in enumerate(states) if s.values is not None and not s.prefix]
    copies = run_parallel(lambda j: np.array(columns[j], dtype=np.float64), wanted)
    return dict(zip(wanted, copies, strict=True))


def _fold(
    state: _FeatureState,
    chunk: Summary,
    raw: np.ndarray,
    origin: Origin,
    copied: np.ndarray | None = None,
) -> None:
    """Fold one chunk's summary of a feature's raw values into its state, with the
    values its chain keeps (``copied``: the raw values in float64, the caller's copy)."""
    _check_policies(state, chunk, raw, origin)
    state.reference = state.reference.merge(chunk)
    staged, count = raw, chunk.count
    if state.first_stage is not None:
        staged = _run_steps(state.spec.name, list(state.prefix), raw, origin)
        (moments,) = column_moments([staged]).moments
        state.first_stage = state.first_stage.merge(Summary.of_moments(moments))
        count, copied = moments.count, staged
    if state.values is None:
        return
    if state.values.count + count > state.values.limit:
        state.values = None  # past exact_limit: the chain reads the sample
        return
    values = copied if copied is not None else np.array(staged, dtype=np.float64)
    state.values = state.values.taking(
        values[np.isfinite(values)] if count < values.size else values
    )


def _run_steps(name: str, steps: list[Step], raw: np.ndarray, origin: Origin) -> np.ndarray:
    feature = FeatureLock(name, tuple(steps), nan="keep", inf="keep")
    return feature.apply(raw.astype(np.float64), origin=origin)


Replay = Callable[[_FeatureState, list[Step]], Summary]


def _replayer(chunks: ChunkSource | None, names: list[str] | None, exact_limit: int) -> Replay:
    """How to summarize a feature's values after fitted steps: from its first stage's
    values kept in memory, else from a second read of the source."""

    def replay(state: _FeatureState, steps: list[Step]) -> Summary:
        name, later = state.spec.name, steps[len(state.prefix) :]
        if state.values is not None:
            kept = np.concatenate(state.values.parts or (np.empty(0),))
            return _exact_summary(_run_steps(name, later, kept, Origin()), exact_limit)
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
            summary = summary.update(_run_steps(name, steps, finite, origin))
        return summary

    return replay


def _exact_summary(values: np.ndarray, exact_limit: int) -> Summary:
    """The summary of ``values`` with every finite one kept."""
    return Summary.empty(exact_limit).update(values)


def _first_values(
    state: _FeatureState, sample: HashSample, j: int
) -> QuantileStore | SampledValues:
    """What the chain's first step that needs data reads its quantiles from: the values
    kept, or past ``exact_limit`` (or when the step reads none) the sample's."""
    if state.values is not None:
        return state.values
    limit = state.reference.quantiles.limit
    if not state.prefix:
        return sample.column(j, limit)
    raw, counts = sample.values[:, j], sample.counts
    staged = _run_steps(state.spec.name, list(state.prefix), raw, Origin())
    return SampledValues.of(staged, counts, not sample.saturated, limit)


def _fit_feature(state: _FeatureState, replay: Replay, sample: HashSample, j: int) -> FeatureLock:
    """Fit the chain of feature ``j`` of the pass (``sample``'s column ``j``)."""
    spec = state.spec
    steps: list[Step] = []
    found: list[str] = []
    for position, step in enumerate(spec.steps):
        method = get_method(step.method)
        if not method.needs_data(step.options):
            summary = Summary.empty()
        elif position == len(state.prefix):
            summary = state.first_stage if state.first_stage is not None else state.reference
            if method.needs_values(step.options):
                summary = replace(summary, quantiles=_first_values(state, sample, j))
        else:
            summary = replay(state, steps)
        try:
            fitted = method.fit(step.options, summary)
        except NormlockError as exc:
            raise type(exc)(f"feature {spec.name!r}: {exc}") from None
        steps.append(Step(method.name, fitted.params))
        found.extend(fitted.warnings)
    raw, limit = state.reference, state.reference.quantiles.limit
    return FeatureLock(
        name=spec.name,
        steps=tuple(steps),
        nan=spec.nan,
        inf=spec.inf,
        reference=LazyReference(
            lambda: reference_of(replace(raw, quantiles=sample.column(j, limit)))
        ),
        warnings=tuple(found),
    )


def _fit_target_array(
    state: _FeatureState, target: Any, rows: int, exact_limit: int
) -> FeatureLock:
    values = np.asarray(target)
    if values.ndim != 1 or len(values) != rows:
        raise InputError(
            f"target must be a 1-D array with one value per row ({rows}), got shape {values.shape}"
        )
    read = read_columns({state.spec.name: values})
    fitted = _Pass({state.spec.name: state})
    fitted.update(read, Origin())
    replay = _replayer(lambda: iter([read.arrays]), None, exact_limit)
    return _fit_target(state, replay, fitted.sample, 0)


def _fit_target(state: _FeatureState, replay: Replay, sample: HashSample, j: int) -> FeatureLock:
    """:func:`_fit_feature` for the target, with a warning when it looks like a label."""
    locked = _fit_feature(state, replay, sample, j)
    column = sample.values[:, j]
    distinct = np.unique(column[np.isfinite(column)])
    found = label_warning(state.spec.name, distinct, not sample.saturated)
    return locked if found is None else replace(locked, warnings=(*locked.warnings, found))
