"""Where rounding ends and a mistake begins.

Correct reimplementations (parameters a few ulps off, a multiplication by a reciprocal,
pandas' mean and std of the same rows, SciPy's form of a power transform) pass as
equivalent up to rounding; real mistakes (ddof=1, float32 parameters, parameters of
another sample) fail; and a ddof slip stops being visible where the documented bound
says it does.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

import normlock as nl
from normlock.verify import ParityReport
from normlock.verify.rounding import ROUNDING_ULPS

EPS = float(np.finfo(np.float64).eps)
Serve = Callable[[np.ndarray], np.ndarray]
SETTINGS = settings(max_examples=25)
MANY_ROWS = (2, 3, 10, 1_000, 100_000, 1_000_000)


@st.composite
def samples(
    draw: st.DrawFn, min_rows: int = 2, max_rows: int = 5_000, rows: int | None = None
) -> np.ndarray:
    """``rows`` (or a random number of) rows with a random scale (1e-6 to 1e6), center
    (0 to 1e6 scales away from 0) and shape."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if rows is None:
        rows = int(10 ** draw(st.floats(math.log10(min_rows), math.log10(max_rows))))
    scale = 10 ** draw(st.floats(-6, 6))
    offset = draw(st.sampled_from([0.0, 0.3, 1.0, 30.0, 1e3, 1e6])) * draw(st.sampled_from([-1, 1]))
    shape = draw(st.sampled_from(["normal", "lognormal", "uniform"]))
    noise = {
        "normal": rng.standard_normal,
        "lognormal": lambda n: rng.lognormal(0.0, 1.0, n),
        "uniform": lambda n: rng.uniform(-1.0, 1.0, n),
    }[shape](max(rows, 2))
    return offset * scale + scale * noise


def fit(x: np.ndarray, spec: object = "standard") -> nl.Lock:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        return nl.fit({"a": x}, {"a": spec})


def locked(lock: nl.Lock) -> tuple[float, float]:
    params = lock.feature("a").steps[-1].params
    return params["mean"], params["std"]


def affine(center: float, scale: float) -> Serve:
    return lambda m: ((m.astype(np.float64) - center) / scale).astype(m.dtype)


def nudge(value: float, ulps: int) -> float:
    for _ in range(abs(ulps)):
        value = float(np.nextafter(value, math.copysign(math.inf, ulps)))
    return value


def check(lock: nl.Lock, serve: Serve, x: np.ndarray) -> ParityReport:
    """Probes and the training rows; the verdict is the same with exact=True only when
    the outputs are the lock's bits."""
    report = lock.verify(serve, {"a": x[:2000]})
    assert lock.verify(serve, {"a": x[:2000]}, exact=True).passed == report.identical
    return report


def float64_cause(report: ParityReport) -> str:
    (result,) = [r for r in report.mismatches if r.run == "float64 probes"]
    assert result.cause is not None
    return result.cause.kind


@SETTINGS
@given(x=samples(), steps=st.tuples(st.integers(-2, 2), st.integers(-2, 2)))
def test_parameters_two_ulps_off_pass(x: np.ndarray, steps: tuple[int, int]) -> None:
    lock = fit(x)
    center, scale = locked(lock)
    report = check(lock, affine(nudge(center, steps[0]), nudge(scale, steps[1])), x)
    assert report.passed, report.summary()
    # in float64 the bound has room to spare; a float32 output may round either way
    assert max(r.rounding_share for r in report.results if r.dtype == "float64") <= 0.5


@SETTINGS
@given(x=samples())
def test_multiplying_by_the_reciprocal_passes(x: np.ndarray) -> None:
    lock = fit(x)
    center, scale = locked(lock)

    def reciprocal(m: np.ndarray) -> np.ndarray:
        return (m.astype(np.float64) * (1 / scale) - center / scale).astype(m.dtype)

    report = check(lock, reciprocal, x)
    assert report.passed, report.summary()


@pytest.mark.parametrize("rows", MANY_ROWS)
@settings(max_examples=4)
@given(data=st.data())
def test_pandas_mean_and_population_std_of_the_same_rows_pass(
    rows: int, data: st.DataObject
) -> None:
    x = data.draw(samples(rows=rows))
    lock = fit(x)
    frame = pd.DataFrame({"a": x})
    mean, std = frame.mean(), frame.std(ddof=0)

    def pandas_pipeline(m: np.ndarray) -> np.ndarray:
        rows = pd.DataFrame({"a": m.astype(np.float64)[:, 0]})
        return ((rows - mean) / std).to_numpy().astype(m.dtype)

    report = check(lock, pandas_pipeline, x)
    assert report.passed, report.summary()


@pytest.mark.parametrize("rows", MANY_ROWS)
@settings(max_examples=4)
@given(data=st.data())
def test_the_sample_std_fails_up_to_a_million_rows(rows: int, data: st.DataObject) -> None:
    x = data.draw(samples(rows=rows))
    lock = fit(x)
    center = locked(lock)[0]
    report = lock.verify(affine(center, float(np.std(x, ddof=1))))
    assert not report.passed
    assert float64_cause(report) == "ddof"


@SETTINGS
@given(x=samples())
def test_parameters_kept_in_float32_fail(x: np.ndarray) -> None:
    lock = fit(x)
    center, scale = locked(lock)
    single = (float(np.float32(center)), float(np.float32(scale)))
    assume(single != (center, scale))
    report = lock.verify(affine(*single))
    assert not report.passed
    assert float64_cause(report) == "parameter_precision"


@SETTINGS
@given(x=samples(min_rows=20), seed=st.integers(0, 2**32 - 1))
def test_parameters_of_another_sample_fail(x: np.ndarray, seed: int) -> None:
    lock = fit(x)
    other = np.random.default_rng(seed).choice(x, len(x))  # a bootstrap sample of the rows
    assume(np.ptp(other) > 0)
    center, scale = float(np.mean(other)), float(np.std(other))
    assume(abs(center - locked(lock)[0]) > 1e-9 * (abs(center) + scale))
    report = lock.verify(affine(center, scale))
    assert not report.passed
    assert float64_cause(report) in ("other_data", "ddof", "units")


def stated_limit(lock: nl.Lock) -> float:
    """The largest n at which a ddof slip shows on the float64 probes, as the docs state
    it: some probe output z has |z| / (2 n) > K eps (|z| + |c| / s + 1)."""
    center, scale = locked(lock)
    z = np.array(lock.probes()["a"]["float64"])
    z = z[np.isfinite(z)]
    return float(
        np.max(np.abs(z) / (2 * ROUNDING_ULPS * EPS * (np.abs(z) + abs(center) / scale + 1)))
    )


@SETTINGS
@given(x=samples(max_rows=2_000))
def test_a_ddof_slip_is_caught_below_the_stated_limit_and_harmless_above(x: np.ndarray) -> None:
    lock = fit(x)
    center, scale = locked(lock)
    limit = stated_limit(lock)
    assert 1e13 < limit < 1e15  # the probes include 0 and the extremes: about 10^14

    def slipped(n: float) -> Serve:  # the sample std of n rows with this population std
        return affine(center, scale * math.sqrt(n / (n - 1)))

    below = lock.verify(slipped(limit / 4))
    assert [r.run for r in below.mismatches] == ["float64 probes"]
    above = lock.verify(slipped(limit * 4))
    assert above.passed, above.summary()


def float32_only(serve: Serve) -> Serve:
    def run(m: np.ndarray) -> np.ndarray:
        if m.dtype != np.float32:
            raise TypeError("this pipeline takes float32 only")
        return serve(m)

    return run


def test_a_float32_only_pipeline_shows_a_ddof_slip_up_to_about_a_million_rows() -> None:
    lock = fit(np.random.default_rng(4).normal(40.0, 12.0, 5_000))
    center, scale = locked(lock)
    for rows, caught in ((10**5, True), (10**6, True), (10**8, False)):
        sample = affine(center, scale * math.sqrt(rows / (rows - 1)))
        report = lock.verify(float32_only(sample))
        assert {r.run for r in report.results} == {"float32 probes"}
        assert report.passed is not caught, (rows, report.summary())


@settings(max_examples=6)
@given(seed=st.integers(0, 2**32 - 1))
def test_scipy_power_transform_and_pandas_statistics_pass_and_another_lambda_fails(
    seed: int,
) -> None:
    x = np.random.default_rng(seed).lognormal(2.0, 1.0, 1_000)
    lock = fit(x, "yeo-johnson")
    assert [s.method for s in lock.feature("a").steps] == ["yeo-johnson", "standard"]
    lmbda = lock.feature("a").steps[0].params["lambda"]

    def scipy_pipeline(power: float) -> Serve:
        values = pd.Series(stats.yeojohnson(x, power))
        mean, std = values.mean(), values.std(ddof=0)
        return lambda m: (
            ((stats.yeojohnson(m.astype(np.float64)[:, 0], power) - mean) / std)
            .reshape(-1, 1)
            .astype(m.dtype)
        )

    report = check(lock, scipy_pipeline(lmbda), x)
    assert report.passed, report.summary()
    assert not lock.verify(scipy_pipeline(lmbda * (1 + 1e-6))).passed
