"""The sample of rows chosen by their hash: the same for any split, exact while it holds
every row, within its declared rank error past that."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from normlock.stats.kernel import wide_row_hashes
from normlock.stats.sample import HashSample


def sample_of(columns: list[np.ndarray], k: int, cuts: list[int], carried: int = 0) -> HashSample:
    """The sample of ``columns`` streamed in chunks cut at ``cuts``, each chunk passing
    only its hashes below the sample's cut (every hash when that does not settle it)."""
    rows = len(columns[0])
    hashed = columns[: len(columns) - carried]
    sample = HashSample.empty(len(columns), carried, k)
    for a, b in itertools.pairwise(sorted({0, rows, *(c for c in cuts if 0 < c < rows)})):
        chunk = [c[a:b] for c in columns]
        hashes = wide_row_hashes(chunk[: len(hashed)])
        cut = sample.cut(b - a)
        below = np.flatnonzero(hashes < cut) if cut < 2**64 else np.arange(b - a)
        below = below[np.argsort(hashes[below], kind="stable")]
        found = sample.update(hashes[below], below, chunk[: len(hashed)], chunk[len(hashed) :], cut)
        if found is None:
            order = np.argsort(hashes, kind="stable")
            found = sample.update(
                hashes[order], order, chunk[: len(hashed)], chunk[len(hashed) :], 2**64
            )
        assert found is not None
        sample = found
    return sample


values = st.sampled_from([0.0, -0.0, 1.5, -2.0, 3.25, np.nan, 1e300, 7.0])


@given(
    st.lists(st.tuples(values, values, values), min_size=1, max_size=60),
    st.lists(st.integers(0, 60), max_size=6),
    st.integers(1, 12),
    st.booleans(),
)
def test_any_chunking_gives_the_same_sample(rows, cuts, k, carry) -> None:
    columns = [np.array([r[j] for r in rows]) for j in range(3)]
    carried = 1 if carry else 0
    whole = sample_of(columns, k, [], carried)
    assert sample_of(columns, k, cuts, carried) == whole
    reversed_rows = [c[::-1].copy() for c in columns]
    assert sample_of(reversed_rows, k, cuts, carried) == whole


@given(
    st.lists(st.tuples(values, values), min_size=1, max_size=60),
    st.lists(st.integers(0, 60), max_size=4),
    st.integers(1, 12),
)
def test_merging_samples_equals_sampling_everything(rows, cuts, k) -> None:
    columns = [np.array([r[j] for r in rows]) for j in range(2)]
    bounds = sorted({0, len(rows), *(c for c in cuts if 0 < c < len(rows))})
    pieces = [sample_of([c[a:b] for c in columns], k, []) for a, b in itertools.pairwise(bounds)]
    merged = pieces[0]
    for piece in pieces[1:]:
        merged = piece.merge(merged)
    assert merged == sample_of(columns, k, [])


@given(st.lists(st.tuples(values, values), min_size=1, max_size=80), st.integers(1, 200))
def test_a_sample_of_every_row_gives_numpy_quantiles_exactly(rows, extra) -> None:
    """Repeated rows are kept once with their count: the quantiles are still those of
    every value, bit for bit (but for the sign of a zero: as in the row hash, -0.0 is
    kept as +0.0)."""
    columns = [np.array([r[j] for r in rows]) for j in range(2)]
    sample = sample_of(columns, len(rows) + extra, [len(rows) // 2])
    probabilities = np.linspace(0, 1, 41)
    for j, column in enumerate(columns):
        finite = column[np.isfinite(column)]
        got = sample.column(j, 10).quantiles(probabilities)
        assert sample.column(j, 10).exact
        if finite.size:
            expected = np.quantile(np.sort(finite), probabilities)
            assert np.array_equal(got, expected + 0.0)
            assert not np.signbit(got[got == 0.0]).any()


def test_past_its_size_the_sample_is_within_its_declared_rank_error() -> None:
    rng = np.random.default_rng(0)
    column = rng.lognormal(0, 2, 400_000)
    sample = sample_of([column], 4096, [100_000, 250_000])
    sampled = sample.column(0, 10)
    assert not sampled.exact and sample.saturated
    probabilities = np.linspace(0.01, 0.99, 99)
    ranks = np.searchsorted(np.sort(column), sampled.quantiles(probabilities)) / column.size
    assert np.max(np.abs(ranks - probabilities)) <= sampled.rank_error


def test_rows_of_equal_features_and_other_carried_values_stay_apart() -> None:
    """A carried target tells apart rows of equal features, in any order."""
    features = np.array([1.0, 1.0, 2.0, 1.0])
    target = np.array([5.0, 6.0, 5.0, 5.0])
    forward = sample_of([features, target], 8, [2], carried=1)
    backward = sample_of([features[::-1].copy(), target[::-1].copy()], 8, [1], carried=1)
    assert forward == backward
    assert sorted(forward.counts.tolist()) == [1, 1, 2]
    assert forward.column(1, 10).quantiles([0.5])[0] == np.median(target)
