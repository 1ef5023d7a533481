"""Every named serving mistake is caught and its cause named; a correct pipeline passes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import normlock as nl
from normlock.testing import assert_parity
from normlock.verify import ParityReport
from tests.verify.serving import NAMES, identity, lock, reference_params, serving, training


def kinds(report: ParityReport, run: str = "float64 probes") -> dict[str, str]:
    return {r.feature: r.cause.kind for r in report.mismatches if r.run == run and r.cause}


def test_a_correct_reimplementation_passes_bit_for_bit() -> None:
    report = lock().verify(serving(reference_params(training())))
    assert report.passed, report.summary()
    assert {r.run for r in report.results} == {"float64 probes", "float32 probes"}
    assert all(r.max_abs_error == 0.0 for r in report.results)
    assert report.identical and report.verdict == "identical"
    assert {r.status for r in report.results} == {"identical"}
    assert {r.tolerance.kind for r in report.results} == {"rounding"}
    assert assert_parity(lock(), serving(reference_params(training())), exact=True).identical


def test_sample_std_is_named() -> None:
    params = reference_params(training())
    data = training()
    for name, pre in (("age", identity), ("income", np.log1p), ("pixel", identity)):
        values = pre(data[name])
        params[name] = (pre, float(np.mean(values)), float(np.std(values, ddof=1)))
    report = lock().verify(serving(params))
    assert kinds(report) == {"age": "ddof", "income": "ddof", "pixel": "ddof"}
    assert "sample std (ddof=1)" in report.causes()["age"][0]
    assert all(r.passed for r in report.results if r.feature == "ctr")


def test_population_std_against_a_sample_std_lock_is_named() -> None:
    data = training()
    sample_lock = nl.fit({"age": data["age"]}, {"age": {"method": "standard", "ddof": 1}})
    mean, std = float(np.mean(data["age"])), float(np.std(data["age"]))
    report = sample_lock.verify(lambda x: ((x.astype(float) - mean) / std).astype(x.dtype))
    assert kinds(report) == {"age": "ddof"}
    assert report.mismatches[0].cause.details["ddof_used"] == 0


def test_parameters_fitted_on_other_data_are_estimated() -> None:
    other = reference_params(training(seed=7))
    report = lock().verify(serving(other))
    assert kinds(report) == dict.fromkeys(NAMES, "other_data")
    for result in report.mismatches:
        if result.run != "float64 probes":
            continue
        _, center, scale = other[result.feature]
        details = result.cause.details
        assert details["center"] == pytest.approx(center, rel=1e-9)
        assert details["scale"] == pytest.approx(scale, rel=1e-9)
        assert details["scale_change"] == pytest.approx(
            (scale - details["locked_scale"]) / details["locked_scale"], rel=1e-6
        )
    assert "income" in report.summary() and "parameters fitted on other data" in report.summary()


@given(
    center_change=st.floats(-0.3, 0.3).filter(lambda v: abs(v) > 1e-4),
    scale_change=st.floats(-0.3, 0.3).filter(lambda v: abs(v) > 1e-4),
)
def test_any_parameter_change_is_recovered(center_change: float, scale_change: float) -> None:
    if abs(center_change - scale_change) < 1e-3:
        scale_change += 0.01  # equal changes mean other units, tested separately
    params = reference_params(training())
    _, center, scale = params["age"]
    used = (center * (1 + center_change), scale * (1 + scale_change))
    params["age"] = (identity, *used)
    report = lock().verify(serving(params))
    (age,) = [r for r in report.mismatches if r.run == "float64 probes"]
    assert age.cause.kind == "other_data"
    assert age.cause.details["center"] == pytest.approx(used[0], rel=1e-9)
    assert age.cause.details["scale"] == pytest.approx(used[1], rel=1e-9)


def test_parameters_beyond_float16_range_from_other_data_are_not_called_float16() -> None:
    incomes = training()["income"] * 10  # mean and std above 65504, float16's largest
    income_lock = nl.fit({"income": incomes})
    mean, std = float(np.mean(incomes[:400])), float(np.std(incomes[:400]))
    report = income_lock.verify(lambda x: ((x.astype(float) - mean) / std).astype(x.dtype))
    assert set(kinds(report).values()) == {"other_data"}


def test_a_std_off_by_more_than_rounding_but_little_is_shown_with_enough_digits() -> None:
    params = reference_params(training())
    _, center, scale = params["age"]
    params["age"] = (identity, center, scale * (1 + 1e-11))
    report = lock().verify(serving(params))
    assert kinds(report) == {"age": "other_data"}
    message = report.causes()["age"][0]
    assert message.startswith("parameters slightly off, by more than rounding")
    assert f" vs locked {scale!r} (+1e-09%)" in message  # all digits, where 9 would tie
    assert report.mismatches[0].cause.details["scale"] == pytest.approx(
        scale * (1 + 1e-11), rel=1e-13
    )


def test_swapped_feature_order_names_the_columns() -> None:
    order = ["pixel", "income", "age", "ctr"]
    report = lock().verify(serving(reference_params(training()), order))
    assert kinds(report) == {"age": "feature_order", "pixel": "feature_order"}
    assert report.mismatches[0].cause.details == {"column": "age", "parameters_of": "pixel"}
    assert "'pixel' was normalized with the parameters of 'age'" in report.summary()


def test_outputs_in_another_order_are_named() -> None:
    correct = serving(reference_params(training()))
    report = lock().verify(lambda x: correct(x)[:, [2, 1, 0, 3]])
    assert kinds(report) == {"age": "output_order", "pixel": "output_order"}


def test_pixels_rescaled_to_unit_range_are_named() -> None:
    params = reference_params(training())
    _, center, scale = params["pixel"]
    params["pixel"] = (lambda x: x / 255.0, center, scale)
    report = lock().verify(serving(params))
    assert kinds(report) == {"pixel": "units"}
    assert report.mismatches[0].cause.details["input_factor"] == pytest.approx(1 / 255)
    assert "0–1" in report.causes()["pixel"][0]


def test_unit_range_lock_fed_pixels_in_0_255_is_named() -> None:
    pixels = training()["pixel"] / 255.0
    unit_lock = nl.fit({"pixel": pixels})
    mean, std = unit_lock.feature("pixel").steps[0].params["mean"], float(np.std(pixels))
    report = unit_lock.verify(lambda x: ((x.astype(float) * 255.0 - mean) / std).astype(x.dtype))
    assert kinds(report) == {"pixel": "units"}
    assert report.mismatches[0].cause.details["input_factor"] == pytest.approx(255.0)


def test_other_units_are_estimated() -> None:
    params = reference_params(training())
    _, center, scale = params["age"]
    params["age"] = (lambda x: x * 1000.0, center, scale)  # months/seconds style slip
    report = lock().verify(serving(params))
    assert kinds(report) == {"age": "units"}
    assert report.mismatches[0].cause.details["input_factor"] == pytest.approx(1000.0, rel=1e-9)


def test_normalization_applied_twice_is_named() -> None:
    correct = serving(reference_params(training()))
    report = lock().verify(lambda x: correct(correct(x)))
    assert kinds(report) == dict.fromkeys(NAMES, "applied_twice")


def test_normalization_not_applied_is_named() -> None:
    report = lock().verify(lambda x: x.copy())
    assert kinds(report) == dict.fromkeys(NAMES, "not_applied")
    assert report.causes()["age"] == ["normalization not applied: the output equals the input"]


def test_a_skipped_chain_step_is_named() -> None:
    params = reference_params(training())
    _, center, scale = params["income"]
    params["income"] = (identity, center, scale)
    report = lock().verify(serving(params))
    assert kinds(report) == {"income": "not_applied"}
    assert report.mismatches[0].cause.details == {"skipped_step": "log1p"}


def test_float16_arithmetic_is_named() -> None:
    correct = serving(reference_params(training()))

    def in_float16(x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # incomes above 65504 overflow float16
            return correct(x.astype(np.float16)).astype(np.float32)

    report = lock().verify(in_float16)
    assert set(kinds(report).values()) == {"precision"}
    assert {r.cause.details["precision"] for r in report.mismatches} == {"float16"}
    assert "float16 overflow" in report.causes()["income"][0]


def test_bfloat16_arithmetic_is_named() -> None:
    params = reference_params(training())

    def in_bfloat16(x: np.ndarray) -> torch.Tensor:
        out = []
        for j, name in enumerate(NAMES):
            pre, center, scale = params[name]
            v = torch.from_numpy(pre(x[:, j].astype(np.float64))).to(torch.bfloat16)
            out.append((v - center) / scale)
        return torch.stack(out, dim=1)

    report = lock().verify(in_bfloat16)
    assert {r.cause.details["precision"] for r in report.mismatches} == {"bfloat16"}


def test_float32_arithmetic_on_float64_inputs_is_named() -> None:
    params = reference_params(training())
    correct = serving(params)
    report = lock().verify(lambda x: correct(x.astype(np.float32)))
    assert set(kinds(report).values()) == {"precision"}
    assert all(r.cause.details["precision"] == "float32" for r in report.mismatches)


def test_float32_arithmetic_in_a_power_transform_is_named_float32_in_both_runs() -> None:
    incomes = training()["income"]
    power_lock = nl.fit(
        {"income": incomes}, {"income": {"method": "yeo-johnson", "standardize": False}}
    )
    lmbda = power_lock.feature("income").steps[0].params["lambda"]

    def single(x: np.ndarray) -> np.ndarray:  # SciPy keeps float32 input in float32
        return stats.yeojohnson(x[:, 0].astype(np.float32), lmbda).reshape(-1, 1).astype(x.dtype)

    report = power_lock.verify(single)
    assert {(r.run, r.cause.kind) for r in report.mismatches} == {
        ("float64 probes", "precision"),
        ("float32 probes", "precision"),
    }
    assert {r.cause.details["precision"] for r in report.mismatches} == {"float32"}


def test_parameters_kept_in_float16_are_named() -> None:
    params = {
        name: (pre, float(np.float16(center)), float(np.float16(scale)))
        for name, (pre, center, scale) in reference_params(training()).items()
    }
    report = lock().verify(serving(params))
    assert kinds(report)["age"] == "parameter_precision"
    assert report.mismatches[0].cause.details["precision"] == "float16"


def test_float32_arithmetic_on_float32_inputs_is_named_and_can_be_allowed() -> None:
    params = reference_params(training())

    def single(x: np.ndarray) -> np.ndarray:  # float32 inputs computed in float32 (NEP 50)
        out = [
            (pre(x[:, j]) - center) / scale
            for j, (pre, center, scale) in enumerate(params[n] for n in NAMES)
        ]
        return np.column_stack(out).astype(x.dtype)

    report = lock().verify(single)
    assert all(r.passed for r in report.results if r.run == "float64 probes")
    # the parameters become float32 values: far more than their own rounding
    assert set(kinds(report, "float32 probes").values()) == {"parameter_precision"}
    assert {r.cause.details["precision"] for r in report.mismatches} == {"float32"}
    assert min(r.rounding_share for r in report.mismatches) > 100
    worst = max(r.max_ulp for r in report.mismatches)
    assert lock().verify(single, ulps=int(np.ceil(worst))).passed


def test_user_data_is_compared_too() -> None:
    data = training(seed=3, rows=50)
    correct = serving(reference_params(training()))
    report = lock().verify(correct, data, probes=False)
    assert report.passed and {r.run for r in report.results} == {"data"}
    assert {r.count for r in report.results} == {50}
    other = lock().verify(serving(reference_params(training(seed=9))), data, probes=False)
    assert set(kinds(other, "data").values()) == {"other_data"}


def test_assert_parity_lists_features_and_causes() -> None:
    order = ["pixel", "income", "age", "ctr"]
    with pytest.raises(AssertionError) as raised:
        assert_parity(lock(), serving(reference_params(training()), order))
    message = str(raised.value)
    assert message.startswith("parity FAILED")
    assert "- age: swapped feature order" in message and "- pixel: swapped" in message
    assert "income" not in message


METHODS = [
    "standard",
    "minmax",
    "maxabs",
    "robust",
    ["log1p", "standard"],
    "yeo-johnson",
    {"method": "quantile", "n_quantiles": 50},
    {"method": "minmax", "clip": True},
]


@settings(max_examples=15)
@given(
    seed=st.integers(0, 10_000),
    picks=st.lists(st.integers(0, len(METHODS) - 1), min_size=1, max_size=4),
)
def test_the_lock_itself_always_passes(seed: int, picks: list[int]) -> None:
    rng = np.random.default_rng(seed)
    data = {f"f{i}": rng.gamma(2.0, 3.0, 200) for i in range(len(picks))}
    data["f0"][::17] = np.nan
    data |= {"id": np.arange(200).astype(str), "y": rng.normal(size=200)}
    spec = {f"f{i}": METHODS[p] for i, p in enumerate(picks)} | {"id": "passthrough"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        fitted = nl.fit(data, spec, target="y")
    report = fitted.verify(fitted.transform, feed="columns")
    assert report.passed, report.summary()
    assert all(r.max_abs_error == 0.0 for r in report.results)
