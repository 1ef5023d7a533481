"""The mergeable state of a fit over some of the rows: :class:`PartialFit`.

One compiled pass over each chunk adds every feature's counts, extrema and exact sums
to its running moments (:class:`~normlock.stats.kernel.Moments`: the sum of squares
only where a chain reads the variance), and gives the row hashes from which the row
sketch (leakage checks) and the sample of rows (reference quantiles) are kept. Features
whose chain reads order statistics or every value also keep their values, up to
``exact_limit``. Partial fits of any split of the rows merge into the partial fit of
all of them, bit for bit: a cluster's partitions, a directory's files or a stream's
chunks give the same lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from normlock.chain import FeatureLock, Step, as_float64
from normlock.errors import NO_ORIGIN, ColumnNotFoundError, InputError, Origin
from normlock.frames import Columns, is_numeric, read_columns
from normlock.groups.fit import GroupPass
from normlock.groups.lock import GroupLock
from normlock.methods import get_method
from normlock.spec import PASSTHROUGH, FeatureSpec, Spec, StepSpec, resolve, resolve_single
from normlock.stats import DEFAULT_EXACT_LIMIT, QuantileStore, Summary
from normlock.stats.kernel import (
    HASH_BITS,
    ColumnMoments,
    Moments,
    run_parallel,
    sort_pairs,
    wide_row_hashes,
)
from normlock.stats.rows import RowSketch
from normlock.stats.sample import HashSample


@dataclass(frozen=True)
class Chain:
    """What a feature's chain asks of the pass.

    Attributes:
        prefix: the leading steps that need no data, fitted once.
        keeps_values: whether the chain reads its first stage's values themselves (order
            statistics, or every value again for a later step).
        squares: whether the first step that needs data reads the variance (so the sum
            of squares of its input, the raw values or those after the prefix, is kept).
    """

    prefix: tuple[Step, ...]
    keeps_values: bool
    squares: bool


def chain_of(steps: tuple[StepSpec, ...]) -> Chain:
    """What a chain of configured steps asks of the pass."""
    prefix: list[Step] = []
    for step in steps:
        method = get_method(step.method)
        if method.needs_data(step.options):
            break
        prefix.append(Step(method.name, method.fit(step.options, Summary.empty()).params))
    later = [(get_method(step.method), step.options) for step in steps[len(prefix) :]]
    data_steps = [(method, options) for method, options in later if method.needs_data(options)]
    # a second step that needs data is fitted on the first one's output: the values again
    keeps = len(data_steps) > 1 or any(method.needs_values(o) for method, o in data_steps)
    squares = bool(data_steps) and data_steps[0][0].needs_variance(data_steps[0][1])
    return Chain(tuple(prefix), keeps, squares)


@dataclass
class FeatureState:
    """What one feature keeps during the pass beside its moments.

    Attributes:
        spec: the feature's resolved spec.
        chain: what its chain asks of the pass.
        values: the values of its first stage (raw, or after the prefix) while the chain
            keeps them and they fit ``exact_limit``, else None.
    """

    spec: FeatureSpec
    chain: Chain
    values: QuantileStore | None

    @property
    def prefix(self) -> tuple[Step, ...]:
        """The chain's leading steps that need no data."""
        return self.chain.prefix

    @property
    def keeps_values(self) -> bool:
        """Whether the chain reads its first stage's values themselves."""
        return self.chain.keeps_values


def new_state(feature: FeatureSpec, exact_limit: int, chain: Chain | None = None) -> FeatureState:
    """The state of a feature before any chunk (``chain``: its :func:`chain_of`, when the
    caller has it already)."""
    chain = chain or chain_of(feature.steps)
    return FeatureState(feature, chain, QuantileStore(exact_limit) if chain.keeps_values else None)


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


class _Group:
    """Features whose values the pass summarizes together: their states, the running
    moments of their raw values and of the values after their prefixes, and the policy
    each has for NaN and infinite values."""

    def __init__(self, states: list[FeatureState], exact_limit: int) -> None:
        self.states, self.exact_limit = states, exact_limit
        self.moments = Moments(len(states), [s.chain.squares and not s.prefix for s in states])
        self.staged = Moments(
            sum(1 for s in states if s.prefix), [s.chain.squares for s in states if s.prefix]
        )
        self.counts = np.zeros((len(states), 4), np.int64)
        self.forbid_nan = np.array([s.spec.nan == "error" for s in states], bool)
        self.forbid_inf = np.array([s.spec.inf == "error" for s in states], bool)

    def fold(self, columns: list[np.ndarray], origin: Origin) -> None:
        """After the pass added a chunk's ``columns`` to the moments: check their NaN and
        infinite values against the policies, summarize their values after each prefix,
        and keep the values the chains keep."""
        chunk = self._check_policies(columns, origin)
        staged = {
            j: run_steps(s.spec.name, list(s.prefix), columns[j], origin)
            for j, s in enumerate(self.states)
            if s.prefix
        }
        if staged:
            self.staged.update(list(staged.values()))
        wanted = [j for j, s in enumerate(self.states) if s.values is not None]
        copied = _copies([columns[j] for j in wanted if j not in staged])
        for j in wanted:  # a prefix's output is a copy already
            values = staged[j] if j in staged else next(copied)
            finite = None if j in staged else int(chunk[j, 0])  # the raw values' count
            self.states[j].values = _taking(self.states[j].values, values, finite)

    def _check_policies(self, columns: list[np.ndarray], origin: Origin) -> np.ndarray:
        """Raise for the chunk's NaN or infinite values a feature's policy forbids (found
        by the counts the pass added); return those counts (finite, NaN, +inf, -inf)."""
        counts = self.moments.counts()
        chunk, self.counts = counts - self.counts, counts
        nan, inf = chunk[:, 1], chunk[:, 2] + chunk[:, 3]
        for j in np.flatnonzero((self.forbid_nan & (nan > 0)) | (self.forbid_inf & (inf > 0))):
            state, raw = self.states[j], columns[j].astype(np.float64)
            checks = (
                (state.spec.nan, nan[j], np.isnan, "NaN/missing", "nan"),
                (state.spec.inf, inf[j], np.isinf, "infinite", "inf"),
            )
            for policy, found, test, what, option in checks:
                if policy == "error" and found:
                    row = int(np.flatnonzero(test(raw))[0])
                    raise InputError(
                        f"feature {state.spec.name!r}, {origin.at(row)}: {what} value ({found} "
                        f"in this chunk) but its policy forbids it; clean the data or set "
                        f"{option}='keep' in the spec"
                    )
        return chunk

    def references(self) -> list[Summary]:
        """Each feature's summary of its raw values (counts, extrema, exact sums; the sum
        of squares only where the chain reads the variance of its raw values)."""
        return [self._summary(m) for m in self.moments.result()]

    def _summary(self, moments: ColumnMoments) -> Summary:
        return Summary.of_moments(moments, QuantileStore(self.exact_limit))

    def first_stages(self) -> list[Summary | None]:
        """Each feature's summary of its values after its prefix (None without one)."""
        found = iter(self.staged.result())
        return [self._summary(next(found)) if s.prefix else None for s in self.states]

    def merge(self, other: _Group) -> _Group:
        """The group over the rows of both (values kept while both kept theirs and they fit
        ``exact_limit`` together)."""
        states = [_merged(a, b) for a, b in zip(self.states, other.states, strict=True)]
        merged = _Group(states, self.exact_limit)
        merged.moments = self.moments.merge(other.moments)
        merged.staged = self.staged.merge(other.staged)
        merged.counts = self.counts + other.counts
        return merged


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
        states: per feature, what it keeps beside its moments.
        carried: the named target's state (the sample keeps its values beside the
            features' but does not hash them).
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
        self.row_sketch = RowSketch()
        self._sample = HashSample.empty(0)
        self._sample_given = False  # handed out: new rows go to new arrays
        self._features = _Group([], exact_limit)
        self._target = _Group([], exact_limit)
        self._groups: GroupPass | None = None  # co-moments, only for a spec with groups

    @property
    def states(self) -> dict[str, FeatureState]:
        """Per feature, in data order, what it keeps beside its moments."""
        return {s.spec.name: s for s in self._features.states}

    @property
    def carried(self) -> dict[str, FeatureState]:
        """The named target's state (empty without one)."""
        return {s.spec.name: s for s in self._target.states}

    def _start(self, read: Columns, origin: Origin) -> None:
        features = _resolve(self.spec, read, self.target, origin)
        self.columns = read.names
        self.passthrough = tuple(f.name for f in features if f.passthrough)
        chains: dict[int, Chain] = {}  # the default entry's steps are one tuple: one chain
        states = []
        for feature in features:
            if not feature.passthrough:
                chain = chains.get(id(feature.steps)) or chains.setdefault(
                    id(feature.steps), chain_of(feature.steps)
                )
                states.append(new_state(feature, self.exact_limit, chain))
        self._features = _Group(states, self.exact_limit)
        if self.spec.groups:
            at = {s.spec.name: j for j, s in enumerate(states)}
            positions = [[at[c] for c in g.columns] for g in self.spec.groups]
            self._groups = GroupPass(self.spec.groups, positions)
        if self.target is not None:
            target = resolve_single(self.target, self.target_spec)
            self._target = _Group([new_state(target, self.exact_limit)], self.exact_limit)
        self._sample = HashSample.empty(
            len(states) + len(self._target.states), len(self._target.states)
        )

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
        states = self._features.states
        if not states:
            return
        block = _block(read, [s.spec.name for s in states])
        columns = block if isinstance(block, list) else [block[:, j] for j in range(block.shape[1])]
        sketch_cut = self.row_sketch.cut(read.rows) << (64 - HASH_BITS)
        sample_cut = self._sample.cut(read.rows)
        found = self._features.moments.update(block, hash_below=max(sketch_cut, sample_cut))
        self._features.fold(columns, origin)
        if self._groups is not None:
            self._groups.update(columns, self.first_stage, origin)
        carried = []
        for state in self._target.states:  # the named target, not hashed
            carried = _columns(read, [state.spec.name])
            self._target.moments.update(carried)
            self._target.fold(carried, origin)
        if found is None:  # a pass asked for hashes has them
            raise AssertionError("the compiled pass returned no row hashes")
        hashes, rows = found
        sort_pairs(hashes, rows)  # one sort serves the sketch and the sample
        self._update_sketch(hashes[: _below(hashes, sketch_cut)], columns, sketch_cut)
        taken = _below(hashes, sample_cut)
        reuse = not self._sample_given  # no one else holds the sample: update it in place
        before = self._sample
        sampled = before.update(
            hashes[:taken], rows[:taken], block, carried, sample_cut, reuse=reuse
        )
        while sampled is None:  # too few distinct rows below the cut: every row's hash
            every = wide_row_hashes(columns)
            order = np.argsort(every)
            sampled = before.update(every[order], order, block, carried, 2**64, reuse=reuse)
        if sampled is not before:  # its arrays are this fit's own now
            self._sample, self._sample_given = sampled, False

    @property
    def sample(self) -> HashSample:
        """The row sample of the rows so far (its arrays are not written to afterwards:
        the next update keeps its rows in new ones)."""
        self._sample_given = True
        return self._sample

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
        merged._features = self._features.merge(other._features)
        merged._target = self._target.merge(other._target)
        if self._groups is not None and other._groups is not None:
            merged._groups = self._groups.merge(other._groups)
        merged.row_sketch = self.row_sketch.merge(other.row_sketch)
        merged._sample = self.sample.merge(other.sample)  # may be either's own arrays
        merged._sample_given = True
        return merged

    def first_stage(self, j: int, raw: np.ndarray, origin: Origin = NO_ORIGIN) -> np.ndarray:
        """Feature ``j``'s values after the leading steps of its chain that need no data."""
        state = self._features.states[j]
        return run_steps(state.spec.name, list(state.prefix), raw, origin) if state.prefix else raw

    def fit_groups(self) -> tuple[GroupLock, ...]:
        """The whitening groups' locks (none without groups in the spec)."""
        if self._groups is None:
            return ()

        def sampled(positions: list[int]) -> tuple[np.ndarray, np.ndarray]:
            values = self.sample.values
            staged = [self.first_stage(j, values[:, j]) for j in positions]
            return np.column_stack(staged), self.sample.counts

        return self._groups.fit(sampled)

    def summaries(self) -> list[tuple[FeatureState, Summary, Summary | None]]:
        """Per feature: its state, the summary of its raw values and that of its values
        after its prefix (None without one)."""
        group = self._features
        return list(zip(group.states, group.references(), group.first_stages(), strict=True))

    def target_summary(self) -> tuple[FeatureState, Summary, Summary | None] | None:
        """The same for the named target (None without one)."""
        group = self._target
        if not group.states:
            return None
        return group.states[0], group.references()[0], group.first_stages()[0]

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


def _copies(columns: list[np.ndarray]) -> Iterator[np.ndarray]:
    """float64 copies of equal-length ``columns``, in order: the columns of one F-ordered
    array, made in one allocation (fresh pages fault in one at a time, which costs more
    than the copy where an allocation of each column's size gets its own pages)."""
    if not columns:
        return iter(())
    block = np.empty((len(columns), len(columns[0])))
    run_parallel(lambda j: np.copyto(block[j], columns[j]), range(len(columns)))
    return iter(block)


def _taking(
    store: QuantileStore | None, values: np.ndarray, finite: int | None = None
) -> QuantileStore | None:
    """``store`` with the finite ``values`` (float64; ``finite`` of them, when the caller
    knows how many) added; None once they would pass its limit (the chain then reads the
    sample)."""
    if store is None:
        return None
    mask = None
    if finite is None:
        mask = np.isfinite(values)
        finite = int(mask.sum())
    if store.count + finite > store.limit:
        return None
    if finite == values.size:
        return store.taking(values)
    return store.taking(values[np.isfinite(values) if mask is None else mask])


def run_steps(name: str, steps: list[Step], raw: np.ndarray, origin: Origin) -> np.ndarray:
    """``raw`` through fitted ``steps`` in float64, NaN and infinities kept."""
    feature = FeatureLock(name, tuple(steps), nan="keep", inf="keep")
    return feature.apply(raw.astype(np.float64), origin=origin)


def _merged(a: FeatureState, b: FeatureState) -> FeatureState:
    """One feature's state over the rows of both (values kept while both kept theirs and
    they fit ``exact_limit`` together)."""
    values = None
    both = a.values is not None and b.values is not None
    if both and a.values.count + b.values.count <= a.values.limit:
        values = a.values.merge(b.values)
    return replace(a, values=values)
