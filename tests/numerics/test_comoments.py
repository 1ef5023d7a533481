"""Exact co-moments: covariance and correlation against rational arithmetic, any chunking."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from normlock.errors import InputError
from normlock.stats.comoments import CoMoments, _python_sums
from tests.exact_reference import sqrt_to_float, to_float


def exact_covariance(matrix: np.ndarray, ddof: int = 0) -> list[list[Fraction]]:
    """The exact covariance of the complete rows of ``matrix``, in rationals."""
    rows = [[Fraction(float(v)) for v in row] for row in matrix if np.isfinite(row).all()]
    n, d = len(rows), matrix.shape[1]
    means = [sum((r[i] for r in rows), Fraction(0)) / n for i in range(d)]
    return [
        [
            sum(((r[i] - means[i]) * (r[j] - means[j]) for r in rows), Fraction(0)) / (n - ddof)
            for j in range(d)
        ]
        for i in range(d)
    ]


def adversarial(rows: int = 600) -> np.ndarray:
    """Offsets of 1e9, scales from 1e-6 to 1e6, correlated columns, a float32 grid."""
    rng = np.random.default_rng(7)
    base = rng.normal(size=(rows, 3))
    return np.column_stack(
        [
            1e9 + base[:, 0],
            1e-6 * (base[:, 0] + 0.5 * base[:, 1]),
            1e6 * base[:, 2] - 3e6,
            np.float32(1e4) + np.float32(0.01) * base[:, 1].astype(np.float32),
            -1e9 + 1e-3 * base[:, 2],
        ]
    )


def test_covariance_and_correlation_are_correctly_rounded_on_adversarial_data() -> None:
    data = adversarial()
    summary = CoMoments.of(data)
    exact = exact_covariance(data, ddof=1)
    covariance = summary.covariance(ddof=1)
    correlation = summary.correlation()
    d = data.shape[1]
    for i in range(d):
        for j in range(d):
            assert covariance[i, j] == to_float(exact[i][j]), (i, j)
            if i != j:
                squared = exact[i][j] ** 2 / (exact[i][i] * exact[j][j])
                expected = math.copysign(sqrt_to_float(squared), exact[i][j])
                assert correlation[i, j] == expected, (i, j)
    means = [to_float(sum(map(Fraction, map(float, data[:, j]))) / len(data)) for j in range(d)]
    assert summary.mean().tolist() == means
    # naive float64 arithmetic loses these digits: the check above is not vacuous
    assert not np.array_equal(np.cov(data, rowvar=False), covariance)


def test_extreme_magnitudes_subnormals_and_signed_zeros_are_exact() -> None:
    data = np.array(
        [
            [1e308, -1e-300, 5e-324, 0.0],
            [-1.7e308, 3e-310, -0.0, 1e-200],
            [1.5e308, 2.0, 1e-320, -1e200],
            [1.0, 1e300, 7.0, 3.0],
        ]
    )
    summary = CoMoments.of(data)
    rows = [[Fraction(float(v)) for v in row] for row in data]
    for i in range(4):
        for j in range(i, 4):
            exact = sum((r[i] * r[j] for r in rows), Fraction(0))
            index = i * 4 - i * (i - 1) // 2 + (j - i)
            assert Fraction(summary.products[index], 2**2400) == exact, (i, j)
    assert summary == _python_sums([data[:, j] for j in range(4)])


def test_rows_with_a_nan_or_an_infinity_are_skipped_and_counted() -> None:
    data = adversarial(300)
    data[5, 1] = np.nan
    data[17, 4] = np.inf
    data[18, 0] = -np.inf
    summary = CoMoments.of(data)
    assert (summary.count, summary.skipped) == (297, 3)
    exact = exact_covariance(data)
    assert summary.covariance()[1, 4] == to_float(exact[1][4])
    assert summary == CoMoments.of(data[np.isfinite(data).all(axis=1)]).merge(
        CoMoments(5, 0, 3, (0,) * 5, (0,) * 15)
    )


def test_rows_whose_values_span_too_many_binades_are_summed_exactly() -> None:
    rng = np.random.default_rng(3)
    outlier = np.concatenate([rng.normal(size=500), [1e300]])  # slices follow the outlier
    other = rng.normal(size=501)
    summary = CoMoments.of(np.column_stack([outlier, other]))
    assert summary == _python_sums([outlier, other])
    crossed = np.array([[1e300, 1e-300], [1e-300, 1e300], [1.0, 2.0]])  # dirty in every pass
    assert CoMoments.of(crossed) == _python_sums([crossed[:, 0], crossed[:, 1]])


def test_layouts_and_dtypes_give_the_same_sums() -> None:
    data = adversarial(1000)
    matrix = CoMoments.of(data)
    assert CoMoments.of(np.asfortranarray(data)) == matrix
    assert CoMoments.of([data[:, j].copy() for j in range(5)]) == matrix
    assert CoMoments.of(data[::-1]) == matrix  # negative strides, reversed rows
    small = data[:, 3].astype(np.float32)
    mixed = CoMoments.of([small, data[:, 0]])
    assert mixed == CoMoments.of(np.column_stack([small.astype(np.float64), data[:, 0]]))


@given(
    st.lists(
        st.tuples(
            st.floats(allow_nan=True, allow_infinity=True, width=64),
            st.floats(-1e6, 1e6) | st.floats(-1e-6, 1e-6),
            st.integers(-(10**12), 10**12).map(float),
        ),
        min_size=1,
        max_size=60,
    ),
    st.lists(st.integers(0, 60), max_size=5),
    st.randoms(use_true_random=False),
)
def test_any_chunking_and_merge_order_gives_the_same_summary(rows, cuts, random) -> None:
    data = np.array(rows, dtype=np.float64)
    whole = CoMoments.of(data)
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    parts = [CoMoments.of(data[a:b]) for a, b in itertools.pairwise(bounds)]
    random.shuffle(parts)
    merged = CoMoments.empty(3)
    for part in parts:
        merged = part.merge(merged) if random.random() < 0.5 else merged.merge(part)
    assert merged == whole
    assert whole == _python_sums([data[:, j] for j in range(3)])
    assert CoMoments.from_dict(json.loads(json.dumps(whole.to_dict()))) == whole


def test_portable_product_gives_the_same_integers() -> None:
    script = (
        "import json, numpy as np; from normlock.stats.comoments import CoMoments;"
        "from tests.numerics.test_comoments import adversarial;"
        "print(json.dumps(CoMoments.of(adversarial(700)).to_dict()))"
    )
    env = {**os.environ, "NORMLOCK_KERNEL": "portable"}
    found = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(found.stdout) == CoMoments.of(adversarial(700)).to_dict()


def test_agrees_with_numpy_on_plain_data_and_rejects_bad_shapes() -> None:
    rng = np.random.default_rng(11)
    data = rng.normal(size=(5000, 4)) @ rng.normal(size=(4, 4))
    summary = CoMoments.of(data)
    np.testing.assert_allclose(summary.covariance(ddof=1), np.cov(data, rowvar=False), rtol=1e-12)
    np.testing.assert_allclose(summary.correlation(), np.corrcoef(data, rowvar=False), rtol=1e-12)
    assert np.isnan(CoMoments.empty(2).mean()).all()
    constant = CoMoments.of(np.column_stack([np.ones(5), np.arange(5.0)]))
    assert np.isnan(constant.correlation()[0, 1]) and constant.correlation()[1, 1] == 1.0
    with pytest.raises(InputError, match="1 to 512 columns"):
        CoMoments.empty(513)
    with pytest.raises(InputError, match="cannot merge"):
        CoMoments.empty(2).merge(CoMoments.empty(3))


def test_rows_split_across_threads_give_the_rows_sums() -> None:
    rng = np.random.default_rng(5)
    data = 1e9 + rng.normal(size=(40_000, 2))
    halves = CoMoments.of(data[:13_001]).merge(CoMoments.of(data[13_001:]))
    assert CoMoments.of(data) == halves
    head = data[:2000]
    assert CoMoments.of(head).covariance()[0, 1] == to_float(exact_covariance(head)[0][1])
