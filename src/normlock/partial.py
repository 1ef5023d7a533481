"""The mergeable state of a fit over some of the rows: :class:`PartialFit`.

One compiled pass over each chunk gives every feature's counts, extrema and exact
moments, and the row hashes from which the row sketch (leakage checks) and the sample of
rows (reference quantiles) are kept. Features whose chain reads order statistics or
every value also keep their values, up to ``exact_limit``. Partial fits of any split of
the rows merge into the partial fit of all of them, bit for bit: a cluster's partitions,
a directory's files or a stream's chunks give the same lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from normlock.chain import FeatureLock, Step, as_float64
from normlock.errors import NO_ORIGIN, ColumnNotFoundError, InputError, Origin
from normlock.frames import Columns, is_numeric, read_columns
from normlock.methods import get_method
from normlock.spec import PASSTHROUGH, FeatureSpec, Spec, resolve, resolve_single
from normlock.stats import DEFAULT_EXACT_LIMIT, QuantileStore, Summary
from normlock.stats.kernel import HASH_BITS, column_moments, run_parallel, wide_row_hashes
from normlock.stats.rows import RowSketch
from normlock.stats.sample import HashSample


@dataclass
class FeatureState:
    """Running summaries of one feature during the pass."""

    spec: FeatureSpec
    prefix: tuple[Step, ...]  # the leading steps that need no data, fitted once
    reference: Summary  # counts, extrema and moments of the raw values
    first_stage: Summary | None  # the same after the prefix, when the prefix is not empty
    keeps_values: bool  # whether the chain reads the first stage's values themselves
    values: QuantileStore | None  # those values while they fit exact_limit, else None


def new_state(feature: FeatureSpec, exact_limit: int) -> FeatureState:
    """The state of a feature before any chunk: its leading steps that need no data
    fitted, and a value store when its chain reads order statistics or its values again."""
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
    return FeatureState(
        feature, tuple(prefix), Summary.empty(exact_limit), first_stage, keeps, values
    )


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


def _check_same_columns(names: tuple[str, ...], columns: tuple[str, ...], what: str) -> None:
    if set(names) != set(columns):
        missing = sorted(set(columns) - set(names))
        extra = sorted(set(names) - set(columns))
        raise InputError(
            f"{what} has different columns from chunk 0 (missing: {missing}, extra: "
            f"{extra}); every chunk must have the same columns"
        )


def _check_policies(state: FeatureState, chunk: Summary, raw: np.ndarray, origin: Origin) -> None:
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


class PartialFit:
    """The state of a fit over the chunks seen so far; :meth:`merge` joins two of them.

    Args:
        spec: the resolved spec (:func:`normlock.spec.load_spec`).
        target: the name of the target column, if the data has one.
        target_spec: the target's spec entry.
        exact_limit: values a feature whose chain reads order statistics keeps exactly.
        names: column names for 2-D numpy chunks.

    Attributes:
        columns: the data's columns, from the first chunk (empty before it).
        passthrough: the columns carried through unchanged.
        rows: rows seen.
        states: per feature, its running summaries.
        carried: the named target's running summaries (the sample keeps its values
            beside the features' but does not hash them).
        row_sketch: the row sketch of the leakage checks.
        sample: the sample of rows.
    """

    def __init__(
        self,
        spec: Spec,
        *,
        target: str | None = None,
        target_spec: Any = "standard",
        exact_limit: int = DEFAULT_EXACT_LIMIT,
        names: list[str] | None = None,
    ) -> None:
        self.spec, self.target, self.target_spec = spec, target, target_spec
        self.exact_limit, self.names = exact_limit, names
        self.columns: tuple[str, ...] = ()
        self.passthrough: tuple[str, ...] = ()
        self.rows = 0
        self.states: dict[str, FeatureState] = {}
        self.carried: dict[str, FeatureState] = {}
        self.row_sketch = RowSketch()
        self.sample = HashSample.empty(0)

    def _start(self, read: Columns, origin: Origin) -> None:
        features = _resolve(self.spec, read, self.target, origin)
        self.columns = read.names
        self.passthrough = tuple(f.name for f in features if f.passthrough)
        self.states = {
            f.name: new_state(f, self.exact_limit) for f in features if not f.passthrough
        }
        if self.target is not None:
            target = resolve_single(self.target, self.target_spec)
            self.carried = {self.target: new_state(target, self.exact_limit)}
        self.sample = HashSample.empty(len(self.states) + len(self.carried), len(self.carried))

    def update(self, chunk: Any, origin: Origin = NO_ORIGIN, index: int = 0) -> None:
        """Fold one chunk in (any container :func:`~normlock.frames.read_columns` reads;
        ``origin`` says where its rows come from, ``index`` which chunk it is, for
        messages): one compiled pass over the features gives their moments and the row
        hashes that the sketch and the sample need."""
        read = read_columns(chunk, self.names)
        if not self.columns:
            self._start(read, origin)
        else:
            _check_same_columns(read.names, self.columns, f"chunk {index}")
        self.rows += read.rows
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
        for j, (state, found_j) in enumerate(zip(self.states.values(), summaries, strict=True)):
            _fold(state, found_j, columns[j], origin, kept.get(j))
        carried = []
        for name, state in self.carried.items():
            raw = _columns(read, [name])[0]
            (moments,) = column_moments([raw]).moments
            _fold(state, Summary.of_moments(moments), raw, origin)
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

    def merge(self, other: PartialFit) -> PartialFit:
        """The partial fit of the rows of both; neither changes."""
        if not other.columns or not self.columns:
            return self if not other.columns else other
        _check_same_columns(other.columns, self.columns, "a partial fit")
        merged = PartialFit(
            self.spec,
            target=self.target,
            target_spec=self.target_spec,
            exact_limit=self.exact_limit,
            names=self.names,
        )
        merged.columns, merged.passthrough = self.columns, self.passthrough
        merged.rows = self.rows + other.rows
        merged.states = _merged_states(self.states, other.states)
        merged.carried = _merged_states(self.carried, other.carried)
        merged.row_sketch = self.row_sketch.merge(other.row_sketch)
        merged.sample = self.sample.merge(other.sample)
        return merged

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


def _kept_columns(columns: list[np.ndarray], states: list[FeatureState]) -> dict[int, np.ndarray]:
    """Float64 copies of the raw columns whose values the features keep, made on all
    cores."""
    wanted = [j for j, s in enumerate(states) if s.values is not None and not s.prefix]
    copies = run_parallel(lambda j: np.array(columns[j], dtype=np.float64), wanted)
    return dict(zip(wanted, copies, strict=True))


def _fold(
    state: FeatureState,
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
        staged = run_steps(state.spec.name, list(state.prefix), raw, origin)
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


def run_steps(name: str, steps: list[Step], raw: np.ndarray, origin: Origin) -> np.ndarray:
    """``raw`` through fitted ``steps`` in float64, NaN and infinities kept."""
    feature = FeatureLock(name, tuple(steps), nan="keep", inf="keep")
    return feature.apply(raw.astype(np.float64), origin=origin)


def _merged_states(
    ours: Mapping[str, FeatureState], theirs: Mapping[str, FeatureState]
) -> dict[str, FeatureState]:
    return {name: _merged(state, theirs[name]) for name, state in ours.items()}


def _merged(a: FeatureState, b: FeatureState) -> FeatureState:
    """One feature's state over the rows of both (values kept while both kept theirs and
    they fit ``exact_limit`` together)."""
    values = None
    both = a.values is not None and b.values is not None
    if both and a.values.count + b.values.count <= a.values.limit:
        values = a.values.merge(b.values)
    first_stage = None
    if a.first_stage is not None and b.first_stage is not None:
        first_stage = a.first_stage.merge(b.first_stage)
    return replace(
        a, reference=a.reference.merge(b.reference), first_stage=first_stage, values=values
    )
