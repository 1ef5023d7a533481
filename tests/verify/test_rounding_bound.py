"""The rounding bound itself: its affine formula by hand, float32 output, and never
tighter than what the exports are promised."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import normlock as nl
from normlock.export.tolerance import RUNTIMES, allowed_difference
from normlock.verify.rounding import ROUNDING_ULPS, rounding_bound

EPS = float(np.finfo(np.float64).eps)


def fit(x: np.ndarray, spec: object) -> nl.Lock:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        return nl.fit({"a": x}, {"a": spec})


def test_the_affine_bound_is_the_documented_formula() -> None:
    x = np.random.default_rng(0).normal(1e4, 3.0, 500)
    feature = fit(x, "standard").feature("a")
    c, s = feature.steps[0].params["mean"], feature.steps[0].params["std"]
    probe = np.array([0.0, c, c + 3 * s, -1e6, 2e4])
    expected = ROUNDING_ULPS * EPS * (np.abs(probe - c) + abs(c) + s) / s
    np.testing.assert_array_equal(rounding_bound(feature, probe), expected)
    # at the mean the center's conditioning dominates: |c| / s ~ 3,300 output epsilons
    assert rounding_bound(feature, np.array([c]))[0] > 3000 * ROUNDING_ULPS * EPS


def test_float32_output_adds_one_float32_ulp_and_nan_gets_none() -> None:
    feature = fit(np.random.default_rng(1).normal(40.0, 12.0, 500), "standard").feature("a")
    x = np.array([10.0, 40.0, 77.0, np.nan], dtype=np.float32)
    wide = rounding_bound(feature, x)
    single = rounding_bound(feature, x, np.float32)
    out32 = feature.apply(x)
    np.testing.assert_array_equal(single[:3], wide[:3] + np.spacing(np.abs(out32[:3])))
    assert wide[3] == single[3] == 0.0


def test_a_later_standard_step_scales_a_power_transforms_difference() -> None:
    x = np.random.default_rng(2).lognormal(2.0, 1.0, 800)
    feature = fit(x, "yeo-johnson").feature("a")
    assert [s.method for s in feature.steps] == ["yeo-johnson", "standard"]
    alone = fit(x, {"method": "yeo-johnson", "standardize": False}).feature("a")
    probe = np.array([0.5, 3.0, 20.0, 300.0])
    std = feature.steps[1].params["std"]
    # the power's own bound, divided by the std, is part of the chain's bound
    assert np.all(rounding_bound(feature, probe) >= rounding_bound(alone, probe) / std)


CHAINS = [
    "standard",
    "robust",
    "maxabs",
    "minmax",
    {"method": "minmax", "feature_range": [-1.0, 1.0], "clip": True},
    ["log1p", "standard"],
    {"method": "log", "offset": 1.0},
    "yeo-johnson",
    {"method": "yeo-johnson", "standardize": False},
    "box-cox",
    {"method": "quantile", "n_quantiles": 50},
    {"method": "quantile", "n_quantiles": 50, "output_distribution": "normal"},
]


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    pick=st.integers(0, len(CHAINS) - 1),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_the_bound_covers_every_exports_promise(seed: int, pick: int, dtype: type) -> None:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(1.0, 1.5, 400)
    feature = fit(x, CHAINS[pick]).feature("a")
    probe = np.concatenate([x[:100], rng.uniform(0.01, 3 * x.max(), 100)]).astype(dtype)
    bound = rounding_bound(feature, probe, dtype)
    for runtime in RUNTIMES:
        promised = allowed_difference(feature, probe, runtime, dtype)
        finite = np.isfinite(promised)
        assert np.all(bound[finite] >= promised[finite]), (runtime, CHAINS[pick])
