"""``fit``: one streaming pass over the training data to a :class:`~normlock.lock.Lock`.

The pass summarizes each feature's raw values (its reference) and, where a chain
starts with steps that need no data (``log1p``), the values after those steps. Later
steps that need data (``["yeo-johnson", "standard"]``) are fitted on the exact values
kept in memory, or on a second read of the source when it can be read again.
"""

from __future__ import annotations

import datetime as _dt
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from normlock import __version__
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
from normlock.reference import reference_of
from normlock.spec import PASSTHROUGH, FeatureSpec, Spec, load_spec, resolve, resolve_single
from normlock.stats import DEFAULT_EXACT_LIMIT, Summary
from normlock.stats.kernel import run_parallel
from normlock.stats.quantiles import as_samples
from normlock.stats.rows import RowSketch

ChunkSource = Callable[[], Iterator[Any]]


@dataclass
class _FeatureState:
    """Running summaries of one feature during the pass."""

    spec: FeatureSpec
    prefix: tuple[Step, ...]  # the leading steps that need no data, fitted once
    reference: Summary
    first_stage: Summary | None  # values after the prefix, when the prefix is not empty


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
    states: dict[str, _FeatureState] = {}
    columns: tuple[str, ...] = ()
    passthrough: list[str] = []
    rows = 0
    target_state = None
    row_sketch = RowSketch()
    if target is not None:
        target_state = _new_state(resolve_single(target_name or "target", target_spec), exact_limit)
    for index, item in enumerate(chunks()):
        chunk, origin = _unwrap(item, rows)
        read = read_columns(chunk, names)
        if index == 0:
            columns = read.names
            features = _resolve(resolved_spec, read, target_name, origin)
            passthrough = [f.name for f in features if f.passthrough]
            states = {f.name: _new_state(f, exact_limit) for f in features if not f.passthrough}
        else:
            _check_same_columns(read, columns, index)
        row_sketch = _update(states, read, origin, row_sketch)
        if target_state is not None and target_name is not None:
            _update({target_name: target_state}, read, origin)
        rows += read.rows
    if not columns:
        raise InputError("no data to fit on: the source yielded no chunk")
    if rows == 0:
        raise InputError("no data to fit on: every chunk was empty")
    replay = _replayer(chunks if rereadable else None, names, exact_limit)
    # every feature's reference sorts its quantile values: on all cores, ahead of the fits
    run_parallel(lambda state: state.reference.quantiles.sorted_values(), list(states.values()))
    locked = tuple(_fit_feature(state, replay) for state in states.values())
    target_lock = None
    if target_state is not None:
        if target_name is None:
            target_lock = _fit_target_array(target_state, target, rows, exact_limit)
        else:
            target_lock = _fit_feature(target_state, replay)
    lock = Lock(
        features=locked,
        columns=tuple(c for c in columns if c != target_name),
        passthrough=tuple(passthrough),
        target=target_lock,
        spec={**resolved_spec.as_written(), "target": target_spec if target is not None else None},
        provenance={"sources": list(sources or [_describe(data)]), "rows": rows},
        created_at=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        library_version=__version__,
        row_sketch=row_sketch if states else None,
    )
    for name, found in lock.warnings.items():
        for message in found:
            warnings.warn(f"feature {name!r}: {message}", NormlockWarning, stacklevel=2)
    return lock


def _unwrap(item: Any, rows_before: int) -> tuple[Any, Origin]:
    """A chunk and where its rows come from (file batches carry their file and row)."""
    if isinstance(item, SourcedBatch):
        return item.batch, item.origin
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
    first_stage = Summary.empty(exact_limit) if prefix else None
    return _FeatureState(feature, tuple(prefix), Summary.empty(exact_limit), first_stage)


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


def _update(
    states: dict[str, _FeatureState],
    read: Columns,
    origin: Origin,
    row_sketch: RowSketch | None = None,
) -> RowSketch | None:
    """Fold one chunk into the features' summaries and, given ``row_sketch``, its rows
    (hashed over these features in the same pass) into that sketch, which it returns."""
    if not states:
        return row_sketch
    names = list(states)
    block = _block(read, names)
    stores = [s.reference.quantiles for s in states.values()]
    sampling = None
    if any(not q.exact or q.count + read.rows > q.limit for q in stores):
        taus, sizes = [q.tau for q in stores], [q.sample_size for q in stores]
        where = zlib.crc32((origin.source or "").encode()) ^ origin.first_row
        sampling = (max(taus), max(sizes), where)
    limit = stores[0].limit
    columns = [block[:, j] for j in range(len(names))] if isinstance(block, np.ndarray) else block
    cut = None if row_sketch is None else row_sketch.cut(read.rows)
    summaries, hashes = Summary.of_chunk(block, limit, sampling, stores, cut)
    _sample_together(list(states.values()), summaries)
    for state, chunk, raw in zip(states.values(), summaries, columns, strict=True):
        _check_policies(state, chunk, raw, origin)
        state.reference = state.reference.merge(chunk)
        if state.first_stage is not None:
            staged = _run_steps(state.spec.name, list(state.prefix), raw, origin)
            state.first_stage = state.first_stage.update(staged)
    if row_sketch is None or cut is None or hashes is None:
        return row_sketch
    updated = row_sketch.update_below(hashes, read.rows, cut)
    return updated if updated is not None else row_sketch.update(columns)


def _sample_together(states: list[_FeatureState], chunks: list[Summary]) -> None:
    """Turn the exact references that this chunk's samples turn into samples all at once,
    so that those of equal counts share one row sample instead of drawing one each."""
    turning = [
        state
        for state, chunk in zip(states, chunks, strict=True)
        if state.reference.quantiles.exact and not chunk.quantiles.exact
    ]
    stores = as_samples([s.reference.quantiles for s in turning])
    for state, store in zip(turning, stores, strict=True):
        state.reference = replace(state.reference, quantiles=store)


def _run_steps(name: str, steps: list[Step], raw: np.ndarray, origin: Origin) -> np.ndarray:
    feature = FeatureLock(name, tuple(steps), nan="keep", inf="keep")
    return feature.apply(raw.astype(np.float64), origin=origin)


Replay = Callable[[str, list[Step], Summary], Summary]


def _replayer(chunks: ChunkSource | None, names: list[str] | None, exact_limit: int) -> Replay:
    """How to summarize a feature's values after fitted steps: from its exact values in
    memory, else from a second read of the source."""

    def replay(name: str, steps: list[Step], reference: Summary) -> Summary:
        if reference.quantiles.exact:
            return Summary.empty(exact_limit).update(
                _run_steps(name, steps, np.asarray(reference.quantiles.sorted_values()), Origin())
            )
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


def _fit_feature(state: _FeatureState, replay: Replay) -> FeatureLock:
    spec = state.spec
    steps: list[Step] = []
    found: list[str] = []
    for position, step in enumerate(spec.steps):
        method = get_method(step.method)
        if not method.needs_data(step.options):
            summary = Summary.empty()
        elif position == len(state.prefix):
            summary = state.first_stage if state.first_stage is not None else state.reference
        else:
            summary = replay(spec.name, steps, state.reference)
        try:
            fitted = method.fit(step.options, summary)
        except NormlockError as exc:
            raise type(exc)(f"feature {spec.name!r}: {exc}") from None
        steps.append(Step(method.name, fitted.params))
        found.extend(fitted.warnings)
    return FeatureLock(
        name=spec.name,
        steps=tuple(steps),
        nan=spec.nan,
        inf=spec.inf,
        reference=reference_of(state.reference),
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
    _update({state.spec.name: state}, read, Origin())
    return _fit_feature(state, _replayer(lambda: iter([read.arrays]), None, exact_limit))
