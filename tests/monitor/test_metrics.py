"""Drift metrics against independent references: SciPy, numpy, closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import normlock as nl
from normlock.monitor.thresholds import benjamini_hochberg


def _metrics(train: np.ndarray, served: np.ndarray, **columns: np.ndarray):
    lock = nl.fit({"x": train, **{k: v[0] for k, v in columns.items()}})
    monitor = lock.monitor()
    monitor.update({"x": served, **{k: v[1] for k, v in columns.items()}})
    return monitor.report().metrics["x"]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_benjamini_hochberg_matches_scipy(p_values: list[float]) -> None:
    expected = stats.false_discovery_control(p_values, method="bh")
    assert np.allclose(benjamini_hochberg(p_values), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("rows", [60_000, 400_000])
def test_psi_on_training_deciles_matches_the_closed_form_for_normals(rows: int) -> None:
    """20 bins cut at the reference's 20-tiles: exact ones for 60,000 rows, those of the
    row sample (within its rank error) for 400,000. The training mass of each bin is
    1/20 in the reference, the served mass the normal's between the lock's edges."""
    rng = np.random.default_rng(1)
    shift = 0.5
    train = rng.normal(0, 1, rows)
    metrics = _metrics(train, rng.normal(shift, 1, 400_000))
    reference = nl.fit({"x": train}).feature("x").reference
    edges = np.asarray(reference["histogram_edges"])
    assert np.max(np.abs(stats.norm.cdf(edges) - np.arange(1, 20) / 20)) <= max(
        reference["rank_error"], 3 / np.sqrt(rows)
    )
    served = np.diff(np.concatenate([[0], stats.norm.cdf(edges - shift), [1]]))
    expected = float(np.sum((served - 0.05) * np.log(served / 0.05)))
    assert metrics.psi == pytest.approx(expected, abs=0.005)


def test_the_psi_test_is_scipys_chi_square_homogeneity_test_on_the_same_bins() -> None:
    rng = np.random.default_rng(2)
    train, served = rng.gamma(3, 2, 3000), rng.gamma(3, 2.2, 600)
    metrics = _metrics(train, served)
    lock = nl.fit({"x": train})
    edges = np.unique(lock.feature("x").reference["histogram_edges"])
    bins = np.concatenate([[-np.inf], edges, [np.inf]])
    table = [np.histogram(served, bins)[0], np.histogram(train, bins)[0]]
    expected = stats.chi2_contingency(table, correction=False).pvalue
    psi_test = next(t for t in metrics.tests if t.name == "psi")
    assert psi_test.p_value == pytest.approx(expected, rel=0.05)


def test_shift_spread_wasserstein_and_ks_against_numpy_and_scipy() -> None:
    rng = np.random.default_rng(3)
    train, served = rng.lognormal(1, 0.5, 5000), rng.lognormal(1.2, 0.6, 2000)
    m = _metrics(train, served)
    assert m.smd == pytest.approx((served.mean() - train.mean()) / train.std(), rel=1e-12)
    assert m.sd_ratio == pytest.approx(served.std() / train.std(), rel=1e-12)
    w1 = stats.wasserstein_distance(served, train) / train.std()
    # the training side is the 101-point quantile grid: the tails are approximate
    assert m.wasserstein_sd == pytest.approx(w1, rel=0.06)
    assert m.ks == pytest.approx(stats.ks_2samp(served, train).statistic, abs=0.01)
    assert m.missing_rate == 0 and m.out_of_range_rate == pytest.approx(
        np.mean((served < train.min()) | (served > train.max()))
    )


def test_the_shape_test_agrees_with_scipys_two_sample_cramer_von_mises() -> None:
    rng = np.random.default_rng(4)
    train, served = rng.normal(0, 1, 3000), rng.normal(0.15, 1.1, 400)
    m = _metrics(train, served)
    reference = stats.cramervonmises_2samp(served, train)
    assert m.cvm == pytest.approx(reference.statistic, rel=0.15)
    assert math.log10(m.cvm_p_value) == pytest.approx(math.log10(reference.pvalue), abs=0.5)


def test_the_missing_test_is_fishers_exact_test() -> None:
    rng = np.random.default_rng(5)
    train = rng.normal(0, 1, 2000)
    train[:40] = np.nan
    served = rng.normal(0, 1, 500)
    served[:30] = np.nan
    m = _metrics(train, served)
    test = next(t for t in m.tests if t.name == "missing")
    table = [[30, 470], [40, 1960]]
    assert test.p_value == pytest.approx(stats.fisher_exact(table, "greater").pvalue, rel=1e-9)
    assert test.effect == pytest.approx(30 / 500 - 40 / 2000)


def test_the_mean_test_matches_welchs_test_on_large_windows() -> None:
    rng = np.random.default_rng(6)
    train, served = rng.normal(10, 2, 4000), rng.normal(10.25, 2.5, 800)
    m = _metrics(train, served)
    test = next(t for t in m.tests if t.name == "mean")
    welch = stats.ttest_ind(served, train, equal_var=False).pvalue
    assert test.p_value == pytest.approx(welch, rel=0.1)


def test_out_of_range_counts_under_the_null_follow_the_beta_binomial() -> None:
    # with m reference values, the mass outside their range is Beta(2, m - 1): simulate it
    rng = np.random.default_rng(7)
    m, n, runs = 300, 200, 400
    outside = []
    for _ in range(runs):
        train, served = rng.normal(size=m), rng.normal(size=n)
        outside.append(int(np.sum((served < train.min()) | (served > train.max()))))
    simulated = np.mean(np.array(outside) >= 4)
    assert simulated == pytest.approx(stats.betabinom.sf(3, n, 2, m - 1), abs=0.04)
    metrics = _metrics(np.linspace(0, 1, m), np.concatenate([np.linspace(0, 1, n - 4), [2.0] * 4]))
    test = next(t for t in metrics.tests if t.name == "range")
    assert test.p_value == pytest.approx(stats.betabinom.sf(3, n, 2, m - 1), rel=1e-9)
