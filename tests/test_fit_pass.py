"""The pieces of a fit's pass: moments with and without squares, their accumulators across
chunks and threads, the sort of the kept hashes and the gather of sampled rows, and the
reference std of features whose chain reads no variance."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import normlock as nl
from normlock.stats import kernel
from normlock.stats.sample import HashSample
from tests.exact_reference import exact_mean_variance, sqrt_to_float


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "list"])
def test_columns_without_squares_have_the_same_counts_extrema_and_sums(dtype, layout) -> None:
    rng = np.random.default_rng(3)
    block = (rng.standard_cauchy((3000, 13)) * 10.0 ** rng.integers(-8, 8, 13)).astype(dtype)
    block[rng.random(block.shape) < 0.01] = np.nan
    block[rng.random(block.shape) < 0.01] = -0.0
    data = {"F": np.asfortranarray(block), "list": [c.copy() for c in block.T]}.get(layout, block)
    squares = [j % 3 == 0 for j in range(13)]
    found = kernel.column_moments(data, squares=squares).moments
    expected = kernel._numpy_moments(block)
    for keep, got, want in zip(squares, found, expected, strict=True):
        assert got == (want if keep else dataclasses.replace(want, sum_sq_units=None))


def test_moments_merge_across_chunks_and_threads_as_one_pass(monkeypatch) -> None:
    rng = np.random.default_rng(4)
    block = rng.normal(1e6, 1.0, (70_000, 5))
    block[rng.random(block.shape) < 0.001] = np.inf
    monkeypatch.setattr(kernel, "MIN_ROWS_PER_THREAD", 1000)
    monkeypatch.setenv("NORMLOCK_THREADS", "3")
    one = kernel.Moments(5, [True, False, True, False, True])
    one.update(block)
    left, right = kernel.Moments(5, one.squares), kernel.Moments(5, one.squares)
    left.update(block[:12_345])
    right.update(block[12_345:40_000])
    right.update(block[40_000:])
    assert right.merge(left).result() == left.merge(right).result() == one.result()
    assert np.array_equal(one.counts()[:, 2], np.isposinf(block).sum(axis=0))


@given(
    st.lists(st.integers(0, 2**64 - 1), max_size=300),
    st.integers(0, 4),
    st.integers(1, 2**64 - 1),
)
def test_sort_pairs_sorts_any_keys_with_their_payload(keys, repeat, spread) -> None:
    """Uniform, clustered, repeated and equal keys alike."""
    values = np.array(keys * (repeat + 1), dtype=np.uint64) % np.uint64(spread)
    order = np.arange(len(values), dtype=np.int64)
    sorted_keys = values.copy()
    kernel.sort_pairs(sorted_keys, order)
    assert np.array_equal(sorted_keys, np.sort(values))
    assert np.array_equal(values[order], sorted_keys)
    assert np.array_equal(np.sort(order), np.arange(len(values)))


def test_sort_pairs_of_many_uniform_hashes() -> None:
    hashes = np.random.default_rng(5).integers(0, 2**63, 300_000, dtype=np.uint64) * np.uint64(2)
    keys, order = hashes.copy(), np.arange(len(hashes))
    kernel.sort_pairs(keys, order)
    assert np.array_equal(keys, np.sort(hashes)) and np.array_equal(hashes[order], keys)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "list", "strided"])
def test_gathered_rows_are_the_values_as_the_row_hash_reads_them(dtype, layout) -> None:
    rng = np.random.default_rng(6)
    block = rng.normal(size=(5000, 9)).astype(dtype)
    block[rng.random(block.shape) < 0.05] = -0.0
    nan_bits = (
        np.array([0x7FA00001, 0xFFC00000], np.uint32)
        if dtype == np.float32
        else np.array([0x7FF0000000000001, 0xFFF8000000000000], np.uint64)
    )
    block.reshape(-1)[rng.integers(0, block.size, 40)] = nan_bits.view(dtype)[np.arange(40) % 2]
    data = {
        "F": np.asfortranarray(block),
        "list": [c.copy() for c in block.T],
        "strided": np.repeat(block, 2, axis=0)[::2],
    }.get(layout, block)
    picked = np.sort(rng.choice(5000, 700, replace=False))
    with np.errstate(invalid="ignore"):  # widening a signaling NaN
        expected = block[picked].astype(np.float64) + 0.0
    expected[np.isnan(expected)] = np.nan
    got = kernel.gather_rows(data, picked, spare=2)
    assert got.shape == (700, 11)
    assert np.array_equal(got[:, :9].view(np.uint64), expected.view(np.uint64))


def test_a_sample_stores_its_rows_in_any_order_and_compares_as_a_set() -> None:
    rows = np.random.default_rng(7).normal(size=(3000, 3))
    columns = list(rows.T)
    hashes = kernel.wide_row_hashes(columns)
    order = np.argsort(hashes)
    sample = HashSample.empty(3, k=1000).update(hashes[order], order, rows, [], 2**64)
    shuffled = rows[::-1].copy()
    again = kernel.wide_row_hashes(list(shuffled.T))
    back = np.argsort(again)
    other = HashSample.empty(3, k=1000).update(again[back], back, shuffled, [], 2**64)
    assert sample == other
    assert not np.array_equal(sample.hashes, other.hashes)  # stored in each chunk's row order
    assert sample.largest == int(np.sort(hashes)[999])


def fit_quietly(data, spec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        return nl.fit(data, spec)


def test_reference_std_of_a_chain_without_variance_is_exact_while_the_sample_holds_every_row():
    rng = np.random.default_rng(8)
    x = np.concatenate([1e9 + rng.normal(0, 1e-4, 20_000), [np.nan, 7.0]])
    x[rng.integers(0, 20_000, 3000)] = x[:3000]  # repeated values, as repeated rows
    lock = fit_quietly({"x": x, "y": x[::-1].copy()}, {"x": "minmax", "y": "standard"})
    reference = lock.feature("x").reference
    _, variance = exact_mean_variance(x, 0)
    assert reference["std_mode"] == "exact"
    assert reference["std"] == sqrt_to_float(variance)
    assert lock.feature("y").reference["std"] == reference["std"]  # from the exact squares


def test_reference_std_past_the_sample_is_its_estimate_and_stays_partition_proof() -> None:
    rng = np.random.default_rng(9)
    table = {"x": rng.lognormal(0, 1, 200_000), "y": rng.normal(5, 2, 200_000)}
    whole = fit_quietly(table, {"x": "maxabs", "y": "robust"})
    parts = [{k: v[a:b] for k, v in table.items()} for a, b in ((0, 70_000), (70_000, 200_000))]
    assert fit_quietly(parts[::-1], {"x": "maxabs", "y": "robust"}).fingerprint == whole.fingerprint
    for name in ("x", "y"):
        reference = whole.feature(name).reference
        assert reference["std_mode"] == "sample"
        true = float(np.std(table[name]))
        assert abs(reference["std"] - true) < 0.05 * true  # 65,536 of 200,000 rows
        assert reference["mean"] == whole_mean(table[name])  # the mean stays exact


def whole_mean(values: np.ndarray) -> float:
    mean, _ = exact_mean_variance(values, 0)
    return mean.numerator / mean.denominator


finite_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1.0, np.nextafter(1.0, 2.0)]),
)


@given(
    st.lists(st.lists(finite_values, max_size=80), min_size=1, max_size=4),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8),
    st.booleans(),
)
def test_selected_quantiles_are_numpys_of_every_part_in_total_order(parts, probabilities, f32):
    """Radix selection over several arrays: the same bits as numpy's linear quantiles of
    their values sorted in total order (-0.0 before +0.0), float32 parts widened exactly."""
    from normlock.stats.quantiles import linear_quantiles, selected_quantiles, total_order

    arrays = [np.array(p, dtype=np.float64) for p in parts]
    if f32:
        with np.errstate(over="ignore"):
            arrays = [a.astype(np.float32) for a in arrays]
        arrays = [a[np.isfinite(a)] for a in arrays]
    every = np.concatenate([a.astype(np.float64) for a in arrays])
    if not every.size:
        return
    wanted = np.array(probabilities)
    expected = linear_quantiles(total_order(every), wanted)
    got = selected_quantiles(arrays, wanted)
    assert np.array_equal(got.view(np.uint64), expected.view(np.uint64))


def test_selection_of_a_million_values_with_many_repeats() -> None:
    from normlock.stats.quantiles import selected_quantiles

    rng = np.random.default_rng(10)
    values = np.round(rng.normal(0, 3, 1_000_000), 1)  # few distinct values, each repeated
    probabilities = np.array([0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0])
    got = selected_quantiles([values[:300_000], values[300_000:]], probabilities)
    assert np.array_equal(got, np.quantile(values, probabilities))
