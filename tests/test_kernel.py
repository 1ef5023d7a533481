"""The compiled moments kernel gives exactly the numpy reference's integers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from normlock.stats import kernel
from tests.adversarial import columns


def test_compiled_kernel_is_built() -> None:
    assert kernel._moments is not None, "the C extension was not compiled at install time"


@pytest.mark.parametrize("name", sorted(columns()))
def test_adversarial_columns_match_reference(name: str) -> None:
    block = columns()[name].reshape(-1, 1)
    assert kernel.column_moments(block).moments == kernel._numpy_moments(block)


@given(
    st.sampled_from([np.float32, np.float64]),
    st.integers(1, 3000),
    st.integers(1, 5),
    st.floats(-300, 300),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_random_blocks_match_reference(dtype, rows, cols, log_scale, seed, fortran) -> None:
    rng = np.random.default_rng(seed)
    scale = 10.0 ** (log_scale / 10 if dtype == np.float32 else log_scale)
    block = (rng.standard_cauchy((rows, cols)) * scale).astype(dtype)
    block[rng.random(block.shape) < 0.02] = np.nan
    block[rng.random(block.shape) < 0.01] = 0.0
    block[rng.random(block.shape) < 0.01] = -0.0
    if fortran:
        block = np.asfortranarray(block)
    assert kernel.column_moments(block).moments == kernel._numpy_moments(block)


def test_squares_whose_rounding_error_is_subnormal() -> None:
    """x near 2**-489: x*x is normal but its rounding error is subnormal."""
    block = np.array([[-9.517455902902531e-148], [2.0**-489], [3.0 * 2.0**-470]])
    assert kernel.column_moments(block).moments == kernel._numpy_moments(block)


@given(arrays(np.float64, st.tuples(st.integers(1, 200), st.integers(1, 3))))
def test_any_float64_values_match_reference(block) -> None:
    assert kernel.column_moments(block).moments == kernel._numpy_moments(block)


def test_thread_split_does_not_change_results(monkeypatch) -> None:
    block = np.random.default_rng(1).normal(1e6, 1.0, size=(300_000, 3))
    monkeypatch.setenv("NORMLOCK_THREADS", "1")
    single = kernel.column_moments(block).moments
    monkeypatch.setenv("NORMLOCK_THREADS", "4")
    monkeypatch.setattr(kernel, "MIN_ROWS_PER_THREAD", 1000)
    assert kernel.column_moments(block).moments == single


@given(
    st.sampled_from([np.float32, np.float64]),
    st.integers(1, 2500),
    st.integers(1, 10),
    st.integers(0, 80),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["C", "F", "every other row", "list", "list of strided"]),
)
def test_values_spanning_many_binades_match_reference(dtype, rows, cols, spread, seed, layout):
    """Values within ``spread`` binades of each other: the fast path picks its number of
    extraction levels from that span (and hands wider spans to the portable path)."""
    rng = np.random.default_rng(seed)
    top = int(rng.integers(-40, 40)) if dtype == np.float32 else int(rng.integers(-300, 300))
    magnitudes = rng.uniform(1, 2, (rows, cols)) * rng.choice([-1, 1], (rows, cols))
    block = np.ldexp(magnitudes, top - rng.integers(0, spread + 1, (rows, cols))).astype(dtype)
    block[rng.random(block.shape) < 0.005] = 0.0
    block = {"F": np.asfortranarray(block), "every other row": block[::2]}.get(layout, block)
    data = {"list": [c.copy() for c in block.T], "list of strided": list(block.T)}.get(
        layout, block
    )
    below = int(rng.uniform(0, 2**64))  # any bound, none to every row
    found = kernel.column_moments(data, below)
    assert found.moments == kernel._numpy_moments(block)
    hashes = kernel._numpy_wide_row_hashes(list(block.T))
    assert np.array_equal(found.hashes, hashes[hashes < below])
    assert np.array_equal(found.rows, np.flatnonzero(hashes < below))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_hashes_from_the_moments_pass_match_reference(dtype) -> None:
    rng = np.random.default_rng(7)
    block = rng.normal(size=(5000, 13)).astype(dtype)
    block[rng.random(block.shape) < 0.01] = np.nan
    block[rng.random(block.shape) < 0.01] = -0.0
    block[0, 0] = np.inf
    # NaNs of every sign and payload, quiet and signaling, and subnormals hash as the
    # definition says, wherever they fall in the row groups of the vector path
    kind = np.uint32 if dtype == np.float32 else np.uint64
    odd = [0x7FA00001, 0xFFC00000, 0xFF800001, 0x00000001, 0x80000001]
    if dtype == np.float64:
        odd = [0x7FF0000000000001, 0xFFF8000000000000, 0xFFF4000000000001, 1, 0x8000000000000001]
    where = rng.integers(0, block.size, 300)
    block.reshape(-1)[where] = np.array(odd, dtype=kind).view(dtype)[np.arange(300) % len(odd)]
    found = kernel.column_moments(block, hash_below=2**64)
    with np.errstate(invalid="ignore"):  # widening a signaling NaN
        expected = kernel._numpy_wide_row_hashes(list(block.T))
        narrow = kernel.row_hashes(list(block.T))
    assert np.array_equal(found.hashes, expected)
    assert np.array_equal(found.rows, np.arange(len(block)))
    assert np.array_equal(narrow, expected >> np.uint64(64 - kernel.HASH_BITS))
    few = kernel.column_moments(block, hash_below=2**56)
    assert np.array_equal(few.hashes, found.hashes[found.hashes < 2**56])
    assert np.array_equal(few.rows, np.flatnonzero(found.hashes < 2**56))
    assert len(few.hashes) < len(found.hashes) / 100


@pytest.mark.parametrize("layout", ["matrix", "list"])
def test_without_the_compiled_kernel_numpy_gives_the_same_pass(monkeypatch, layout) -> None:
    rng = np.random.default_rng(11)
    block = rng.normal(size=(3000, 6)).astype(np.float32)
    block[rng.random(block.shape) < 0.01] = np.nan
    data = block if layout == "matrix" else [c.copy() for c in block.T]
    compiled = kernel.column_moments(data, 2**62)
    columns = list(block.T)
    narrow, wide = kernel.row_hashes(columns), kernel.wide_row_hashes(columns)
    monkeypatch.setattr(kernel, "_moments", None)
    fallback = kernel.column_moments(data, 2**62)
    assert fallback.moments == compiled.moments
    assert np.array_equal(fallback.hashes, compiled.hashes)
    assert np.array_equal(fallback.rows, compiled.rows)
    assert np.array_equal(kernel.row_hashes(columns), narrow)
    assert np.array_equal(kernel.wide_row_hashes(columns), wide)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_odd_values_hidden_from_the_extrema_still_reach_the_portable_path(dtype) -> None:
    """A NaN's minimum or maximum is the other operand, so a NaN, or an infinity that a
    NaN follows, can leave no trace in a block's extrema: the level sums catch them."""
    block = np.ones((1024, 8), dtype=dtype)
    block[0, 0] = np.nan
    block[0, 1], block[1, 1] = np.inf, np.nan
    block[5, 2], block[6, 2] = -np.inf, np.nan
    block[7, 3] = 0.5
    assert kernel.column_moments(block).moments == kernel._numpy_moments(block)
    assert kernel.column_moments(block[:, :4].copy()).moments == kernel._numpy_moments(block[:, :4])


def test_a_list_of_columns_may_mix_float32_and_float64() -> None:
    rng = np.random.default_rng(8)
    columns = [rng.normal(size=3000).astype(np.float32), rng.normal(size=3000), np.zeros(3000)]
    expected = [kernel._numpy_moments(c.reshape(-1, 1))[0] for c in columns]
    found = kernel.column_moments(columns, hash_below=2**64)
    assert found.moments == expected
    assert np.array_equal(found.hashes, kernel._numpy_wide_row_hashes(columns))


@given(
    st.sampled_from([np.float32, np.float64]),
    st.sampled_from([np.float32, np.float64]),
    st.integers(1, 700),
    st.integers(1, 9),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_affine_kernel_matches_the_formula_and_counts_odd_values(
    in_dtype, out_dtype, rows, cols, seed, strided
) -> None:
    """Same bits as ``((x - c) / s)`` in float64 rounded once, with NaN inputs, infinite
    inputs and finite inputs whose output overflows counted per column."""
    rng = np.random.default_rng(seed)
    block = (rng.standard_cauchy((rows, cols)) * 1e30).astype(in_dtype)
    block[rng.random(block.shape) < 0.02] = np.nan
    block[rng.random(block.shape) < 0.02] = np.inf
    block[rng.random(block.shape) < 0.02] = -np.inf
    if strided:
        block = block[:, ::-1]
    centers = rng.normal(size=cols)
    scales = np.exp(rng.normal(-20, 10, size=cols))  # some outputs overflow float32
    result = kernel.affine_columns(block, centers, scales, out_dtype)
    wide = block.astype(np.float64)
    with np.errstate(all="ignore"):
        expected = ((wide - centers) / scales).astype(out_dtype)
    assert np.ascontiguousarray(result.out).tobytes() == expected.tobytes()
    assert np.array_equal(result.nan, np.isnan(wide).sum(axis=0))
    assert np.array_equal(result.inf, np.isinf(wide).sum(axis=0))
    overflow = np.isfinite(wide) & ~np.isfinite(expected)
    assert np.array_equal(result.overflow, overflow.sum(axis=0))


NARROWER_PATH_CHECK = """
import numpy as np
from normlock.stats import kernel
rng = np.random.default_rng(3)
for dtype in (np.float32, np.float64):
    spread = 30 if dtype == np.float32 else 200
    block = np.ldexp(rng.uniform(1, 2, (3000, 19)), rng.integers(-spread, spread, (3000, 19)))
    block = block.astype(dtype)
    block[rng.random(block.shape) < 0.01] = np.nan
    block[rng.random(block.shape) < 0.01] = -0.0
    block[5:8, 3] = [np.inf, np.nan, 1.0]
    for data in (block, np.asfortranarray(block), [c.copy() for c in block.T], block[:, :8].copy()):
        columns = data if isinstance(data, list) else list(data.T)
        found = kernel.column_moments(data, 2**63)
        assert found.moments == kernel._numpy_moments(np.column_stack(columns))
        hashes = kernel._numpy_wide_row_hashes(columns)
        assert np.array_equal(found.hashes, hashes[hashes < 2**63])
        assert np.array_equal(found.rows, np.flatnonzero(hashes < 2**63))
        assert np.array_equal(kernel.row_hashes(columns), hashes >> np.uint64(16))
print("same results")
"""


@pytest.mark.parametrize("path", ["portable", "avx2"])
def test_each_narrower_path_alone_gives_the_same_results(path: str) -> None:
    """CPUs without AVX-512 run the AVX2 path, those without AVX2 only the portable one:
    each is forced here, on the layouts the wider paths would otherwise take."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "NORMLOCK_KERNEL": path}
    done = subprocess.run(
        [sys.executable, "-c", NARROWER_PATH_CHECK], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "same results" in done.stdout
