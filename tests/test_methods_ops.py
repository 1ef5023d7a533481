"""The operations that write each formula down, and what is derived from them."""

from __future__ import annotations

import numpy as np
import pytest

import normlock as nl
from normlock.methods import get_method
from normlock.methods.ops import linear_map, run

X = np.random.default_rng(3).normal(10.0, 3.0, 400)


@pytest.mark.parametrize(
    "entry",
    [
        "standard",
        "robust",
        "maxabs",
        "minmax",
        {"method": "minmax", "feature_range": [-2.0, 5.0]},
        {"method": "standard", "with_mean": False},
    ],
    ids=str,
)
def test_linear_map_matches_the_formula(entry) -> None:
    step = nl.fit({"x": X}, {"x": entry}).feature("x").steps[0]
    a, b = linear_map(get_method(step.method).ops(step.params))
    assert np.allclose(run(get_method(step.method).ops(step.params), X), a * X + b, rtol=1e-14)


def test_non_linear_and_clipping_steps_have_no_linear_map() -> None:
    for entry in ("log1p", "yeo-johnson", {"method": "minmax", "clip": True}):
        step = nl.fit({"x": X}, {"x": entry}).feature("x").steps[0]
        assert linear_map(get_method(step.method).ops(step.params)) is None


def test_affine_is_the_exact_center_scale_form_only() -> None:
    standard = nl.fit({"x": X}).feature("x").steps[0]
    assert get_method("standard").affine(standard.params) == (
        standard.params["mean"],
        standard.params["std"],
    )
    ranged = (
        nl.fit({"x": X}, {"x": {"method": "minmax", "feature_range": [-1.0, 1.0]}})
        .feature("x")
        .steps[0]
    )
    assert get_method("minmax").affine(ranged.params) is None


EDGES = np.array([np.nan, -np.inf, -3.0, -1.5, -1.0, -0.5, -0.0, 0.0, 1e-300, 0.5, 2.0, np.inf])


@pytest.mark.parametrize(
    ("method", "params", "outside"),
    [
        ("log", {"offset": 1.5}, lambda x: x + 1.5 <= 0),
        ("log", {"offset": 0.0}, lambda x: x <= 0),
        ("log1p", {}, lambda x: x <= -1),
        ("box-cox", {"lambda": 0.5}, lambda x: x <= 0),
        ("yeo-johnson", {"lambda": 0.5}, lambda x: np.zeros_like(x, dtype=bool)),
        (
            "standard",
            {"with_mean": True, "with_std": True, "ddof": 0, "mean": 1.0, "std": 2.0},
            lambda x: np.zeros_like(x, dtype=bool),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_domain_violations_follow_the_operations_bounds(method, params, outside) -> None:
    """A value is outside when it reaches a bounded operation at or below its bound;
    NaN never is, -inf always is for a bounded one."""
    with np.errstate(invalid="ignore"):
        expected = outside(EDGES)
    found = get_method(method).domain_violations(params, EDGES)
    if not expected.any():
        assert found is None
    else:
        assert np.array_equal(found, expected)
