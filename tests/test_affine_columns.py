"""The fused affine pass gives the numpy formula's bits and counts on every layout: a
matrix by rows or by columns, a list of columns (contiguous, strided, of mixed dtypes)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from normlock.stats import kernel

LAYOUTS = ["C", "F", "reversed", "list", "strided list", "mixed list"]


def block_in(layout: str, matrix: np.ndarray) -> np.ndarray | list[np.ndarray]:
    """``matrix``'s values in ``layout`` (the same values column by column)."""
    if layout == "C":
        return np.ascontiguousarray(matrix)
    if layout == "F":
        return np.asfortranarray(matrix)
    if layout == "reversed":
        return np.ascontiguousarray(matrix[:, ::-1])[:, ::-1]
    if layout == "list":
        return [c.copy() for c in matrix.T]
    if layout == "strided list":
        return [np.repeat(c, 3)[::3] for c in matrix.T]
    return [c.astype(np.float32) if j % 2 else c.copy() for j, c in enumerate(matrix.T)]


def expected(columns: list[np.ndarray], centers: np.ndarray, scales: np.ndarray, out_dtype: type):
    wide = np.column_stack([c.astype(np.float64) for c in columns])
    with np.errstate(all="ignore"):
        out = ((wide - centers) / scales).astype(out_dtype)
    overflow = np.isfinite(wide) & ~np.isfinite(out)
    return out, np.isnan(wide).sum(0), np.isinf(wide).sum(0), overflow.sum(0)


def assert_matches(
    result: kernel.AffineResult, columns: list[np.ndarray], centers, scales, out_dtype
):
    out, nan, inf, overflow = expected(columns, centers, scales, out_dtype)
    assert result.out.dtype == out_dtype and result.out.shape == out.shape
    assert np.ascontiguousarray(result.out).tobytes() == out.tobytes()
    assert result.nan.tolist() == nan.tolist() and result.inf.tolist() == inf.tolist()
    assert result.overflow.tolist() == overflow.tolist()


@given(
    layout=st.sampled_from(LAYOUTS),
    in_dtype=st.sampled_from([np.float32, np.float64]),
    out_dtype=st.sampled_from([np.float32, np.float64]),
    rows=st.integers(0, 300),
    cols=st.integers(1, 7),
    seed=st.integers(0, 2**32 - 1),
    odd_share=st.sampled_from([0.0, 0.003, 0.05]),
)
def test_every_layout_gives_the_formulas_bits_and_counts(
    layout: str, in_dtype: type, out_dtype: type, rows: int, cols: int, seed: int, odd_share: float
) -> None:
    rng = np.random.default_rng(seed)
    matrix = (rng.standard_cauchy((rows, cols)) * 1e30).astype(in_dtype)
    for value in (np.nan, np.inf, -np.inf):
        matrix[rng.random(matrix.shape) < odd_share] = value
    centers = rng.normal(size=cols)
    scales = np.exp(rng.normal(-20, 10, size=cols))  # some outputs overflow float32
    block = block_in(layout, matrix)
    columns = list(block.T) if isinstance(block, np.ndarray) else block
    result = kernel.affine_columns(block, centers, scales, out_dtype)
    assert_matches(result, columns, centers, scales, out_dtype)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("order", ["C", "F"])
def test_rows_split_over_threads_and_a_given_out(layout: str, order: str) -> None:
    rows = 3 * kernel.MIN_ROWS_PER_THREAD + 5  # several row ranges, none a whole number of lanes
    rng = np.random.default_rng(1)
    matrix = rng.normal(0, 1e3, (rows, 3))
    matrix[[0, rows // 2, rows // 2 + 1, rows - 1], [0, 1, 2, 0]] = [
        np.nan,
        np.inf,
        np.nan,
        -np.inf,
    ]
    centers, scales = np.array([1.0, -2.0, 3.0]), np.array([0.5, 7.0, 1e-310])
    out = np.full((rows, 3), 9.0, order=order)
    block = block_in(layout, matrix)
    columns = list(block.T) if isinstance(block, np.ndarray) else block
    result = kernel.affine_columns(block, centers, scales, np.float64, out)
    assert result.out is out
    assert_matches(result, columns, centers, scales, np.float64)


def test_a_contiguous_input_gives_an_output_of_its_layout() -> None:
    matrix = np.ones((40, 3))
    by_rows = kernel.affine_columns(matrix, np.zeros(3), np.ones(3), np.float64)
    assert by_rows.out.flags.c_contiguous
    for block in (np.asfortranarray(matrix), list(matrix.T.copy())):
        by_columns = kernel.affine_columns(block, np.zeros(3), np.ones(3), np.float32)
        assert by_columns.out.flags.f_contiguous


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match=r"different lengths: \[3, 4\]"):
        kernel.affine_columns([np.ones(3), np.ones(4)], np.zeros(2), np.ones(2), np.float64)
    assert kernel.affine_columns([np.arange(3)], np.zeros(1), np.ones(1), np.float64) is None
