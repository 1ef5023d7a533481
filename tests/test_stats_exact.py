"""Correct rounding: fitted mean and std equal the float64 rounding of the exact values."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normlock.stats import Summary
from tests.adversarial import columns
from tests.exact_reference import exact_mean_variance, sqrt_to_float, to_float

ADVERSARIAL = columns()


def summarize(values: np.ndarray, chunks: int = 1) -> Summary:
    summary = Summary.empty()
    for part in np.array_split(values, chunks):
        summary = summary.update(part)
    return summary


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
@pytest.mark.parametrize("ddof", [0, 1])
def test_mean_variance_std_are_correctly_rounded(name: str, ddof: int) -> None:
    values = ADVERSARIAL[name]
    summary = summarize(values, chunks=3)
    mean, variance = exact_mean_variance(values, ddof)
    assert summary.mean == to_float(mean)
    assert summary.variance(ddof) == to_float(variance)
    assert summary.std(ddof) == sqrt_to_float(variance)
    finite = values[np.isfinite(values)].astype(np.float64)
    assert summary.min == finite.min() and summary.max == finite.max()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=2, max_size=12),
    st.integers(-1074, 1000),
    st.sampled_from([0, 1]),
)
def test_variance_is_correctly_rounded_at_every_scale(
    values: list[float], exponent: int, ddof: int
) -> None:
    """Subnormal, tiny, huge and mixed magnitudes: the variance and std rounded once."""
    with np.errstate(over="ignore"):
        scaled = np.ldexp(np.asarray(values), exponent)
    scaled = scaled[np.isfinite(scaled)]
    if len(scaled) - ddof <= 0:
        return
    summary = summarize(scaled, chunks=2)
    _, variance = exact_mean_variance(scaled, ddof)
    assert summary.variance(ddof) == to_float(variance)
    assert summary.std(ddof) == sqrt_to_float(variance)


def test_constant_columns_have_exactly_zero_variance() -> None:
    for values in (np.full(1000, 14.62), np.full(10**6, 0.1), np.full(10**6, -100.0, np.float32)):
        summary = summarize(values, chunks=7)
        assert summary.variance() == 0.0 and summary.std() == 0.0
        assert summary.mean == float(values[0])


def test_tiny_real_variance_is_not_called_constant() -> None:
    values = ADVERSARIAL["tiny_variance"]
    assert summarize(values).std() == sqrt_to_float(exact_mean_variance(values)[1]) > 0


def test_overflowing_inputs_give_no_nan() -> None:
    summary = summarize(np.array([1e308, 1e308]))
    assert summary.mean == 1e308 and summary.variance() == 0.0
    summary = summarize(np.array([1e300] * 3), chunks=3)
    assert summary.mean == 1e300 and summary.std() == 0.0
    spread = summarize(np.array([1e200, -1e200]))
    assert spread.variance() == math.inf  # the variance itself is beyond float64
    assert spread.std() == 1e200  # its root is not


def test_subnormal_mean_rounds_half_to_even() -> None:
    assert summarize(np.array([5e-324, 0.0])).mean == 0.0
    assert summarize(np.array([5e-324, 5e-324, 5e-324, 0.0])).mean == 5e-324


def test_ten_million_rows_against_closed_form() -> None:
    """10**7 values 1e9 + k * 2**-20 with integer k: the exact moments have a closed form."""
    rng = np.random.default_rng(7)
    k = rng.integers(-(2**15), 2**15, size=10**7)
    values = 1e9 + k * 2.0**-20
    assert np.array_equal((values - 1e9) * 2.0**20, k)  # every value is exactly 1e9 + k/2**20
    n = len(k)
    sum_k, sum_k2 = int(k.sum()), int((k * k).sum())
    d = Fraction(1, 2**20)
    mean = Fraction(10**9) + d * Fraction(sum_k, n)
    variance = d * d * (Fraction(sum_k2, n) - Fraction(sum_k, n) ** 2)
    summary = summarize(values, chunks=5)
    assert summary.count == n
    assert summary.mean == to_float(mean)
    assert summary.std() == sqrt_to_float(variance)


def test_counts_nan_and_infinities_separately() -> None:
    values = np.array([1.0, np.nan, np.inf, -np.inf, -np.inf, 3.0])
    summary = summarize(values)
    assert (summary.count, summary.nan, summary.posinf, summary.neginf) == (2, 1, 1, 2)
    assert summary.mean == 2.0 and summary.min == 1.0 and summary.max == 3.0


def test_signed_zero_extremes_do_not_depend_on_order() -> None:
    a = Summary.empty().update(np.array([0.0]))
    b = Summary.empty().update(np.array([-0.0]))
    for merged in (a.merge(b), b.merge(a)):
        assert math.copysign(1.0, merged.min) == -1.0
        assert math.copysign(1.0, merged.max) == 1.0
    only_negative = Summary.empty().update(np.array([-0.0, -0.0]))
    assert math.copysign(1.0, only_negative.max) == -1.0


def test_empty_summary_is_identity_for_merge() -> None:
    summary = summarize(np.arange(10.0))
    assert summary.merge(Summary.empty()).to_dict() == summary.to_dict()
    assert Summary.empty().merge(summary).to_dict() == summary.to_dict()
    assert math.isnan(Summary.empty().mean)
