"""The advisor: methods for columns of known kind and real datasets, κ, precision, spec."""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine

import normlock as nl
from normlock.advise import advisor
from normlock.advise.conditioning import condition, iterations
from normlock.advise.precision import FORMATS, cast, risks

ROWS = 3000


def generated() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(17)
    return {
        "uniform": rng.uniform(3.0, 17.0, ROWS),
        "lognormal": rng.lognormal(2.0, 1.0, ROWS),
        "student_t": rng.standard_t(3, ROWS),
        "bimodal": np.concatenate([rng.normal(-2, 0.6, ROWS // 2), rng.normal(2, 0.6, ROWS // 2)]),
        "order_id": rng.permutation(ROWS) + 70_000.0,
        "normal": rng.normal(50.0, 8.0, ROWS),
        "flag": rng.integers(0, 2, ROWS).astype(float),
        "constant": np.full(ROWS, 4.5),
        "label": rng.integers(0, 4, ROWS).astype(float),
        "city": np.array(["oslo", "lima", "pune"])[rng.integers(0, 3, ROWS)],
    }


EXPECTED = {
    "uniform": ("minmax", "bounded and flat"),
    "lognormal": (["log1p", "standard"], "skewed"),
    "student_t": ("robust", "heavy tails"),
    "bimodal": ("quantile", "multi-modal (2 modes)"),
    "order_id": ("passthrough", "an ID"),
    "normal": ("standard", "near-symmetric"),
    "flag": ("minmax", "two values"),
    "constant": ("passthrough", "constant"),
    "label": ("passthrough", "a classification target (4"),
    "city": ("passthrough", "text with 3 distinct values"),
}


ADVICE = nl.advise(generated(), target="label", source="generated")


@pytest.mark.parametrize("column", sorted(EXPECTED))
def test_columns_of_known_kind_get_the_expected_method_and_reason(column: str) -> None:
    found = ADVICE.recommendation(column)
    entry, reason = EXPECTED[column]
    assert found.entry == entry
    assert reason in found.reason
    if column not in ("constant", "city"):
        assert found.rejected, column  # what it weighed, with why not


def test_the_spec_fits_as_it_is_and_the_yaml_round_trips(tmp_path) -> None:
    import yaml

    spec = yaml.safe_load(ADVICE.spec_yaml())
    assert spec == ADVICE.spec()
    assert spec["features"]["label"] == "passthrough"
    path = tmp_path / "spec.yaml"
    path.write_text(ADVICE.spec_yaml())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        lock = nl.fit(generated(), path)
    assert lock.feature("lognormal").steps[0].method == "log1p"
    assert "order_id" in lock.passthrough and "city" in lock.passthrough


def test_real_datasets_get_methods_that_fit_their_columns() -> None:
    diabetes = nl.advise(load_diabetes(as_frame=True).frame, target="target")
    assert diabetes.recommendation("sex").kind == "binary"
    assert diabetes.recommendation("bmi").entry == "standard"
    assert diabetes.recommendation("target").kind != "label"  # a regression target
    cancer = nl.advise(load_breast_cancer(as_frame=True).frame, target="target")
    assert cancer.recommendation("target").kind == "label"
    assert cancer.recommendation("area error").kind == "skewed"
    assert cancer.recommendation("mean texture").kind in ("continuous",)
    assert cancer.groups and "worst radius" in cancer.groups[0]["columns"]
    c = cancer.conditioning
    assert c.raw > 1e10 and c.normalized < c.before_groups < 1e6 and c.whitened < 1.1
    wine = nl.advise(load_wine(as_frame=True).frame, target="target")
    assert wine.recommendation("malic_acid").entry == ["log", "standard"]
    assert wine.recommendation("target").kind == "label"
    digits = load_digits()
    found = nl.advise(digits.data, names=[f"p{i}" for i in range(64)])
    kinds = [found.recommendation(f"p{i}").kind for i in range(64)]
    blank = [i for i in range(64) if np.ptp(digits.data[:, i]) == 0]
    assert blank and all(kinds[i] == "constant" for i in blank)
    assert kinds.count("bounded") > 32  # pixels sit at 0 and at 16, their limits
    assert "hard limits" in found.recommendation("p21").reason


def test_kappa_agrees_with_numpy_on_the_same_matrix() -> None:
    data = generated()
    names = [n for n in ADVICE.conditioning.columns]
    design = np.column_stack([np.ones(ROWS), *[data[n] for n in names]])
    expected = np.linalg.cond(design.T @ design)
    assert ADVICE.conditioning.raw == pytest.approx(expected, rel=1e-6)
    assert condition([data["normal"]]) == pytest.approx(
        np.linalg.cond(
            np.column_stack([np.ones(ROWS), data["normal"]]).T
            @ np.column_stack([np.ones(ROWS), data["normal"]])
        ),
        rel=1e-9,
    )
    assert ADVICE.conditioning.normalized < ADVICE.conditioning.raw / 100
    assert iterations(1.0, 1e-6) == 1 and math.isinf(iterations(math.inf, 1e-6))
    assert iterations(10.0, 1e-6) == math.ceil(math.log(1e-6) / math.log(0.9))


@pytest.mark.parametrize("name", ["float16", "float32"])
def test_casts_and_risk_counts_agree_with_numpy(name: str) -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [
            rng.normal(size=5000) * 10.0 ** rng.uniform(-9, 6, 5000),
            [65504.0, 65519.99, 65520.0, 6e-8, 2.98e-8, 2.99e-8, 1e-45, 3.4028235e38, 3.5e38],
            1e9 + rng.normal(size=500),
        ]
    )
    numpy_type = np.float16 if name == "float16" else np.float32
    with np.errstate(over="ignore"):
        cast_np = x.astype(numpy_type)
    assert np.array_equal(cast(x, FORMATS[name]), cast_np.astype(np.float64))
    risk = risks(x, FORMATS[name])
    tiny = np.finfo(numpy_type).smallest_normal
    assert risk.overflow == np.mean(np.isinf(cast_np))
    assert risk.underflow == np.mean((x != 0) & (cast_np == 0))
    assert risk.subnormal == np.mean((cast_np != 0) & (np.abs(cast_np) < tiny))
    distinct, inverse = np.unique(x, return_inverse=True)
    with np.errstate(over="ignore"):
        landed = distinct.astype(numpy_type)
    groups = np.unique(landed, return_counts=True)
    crowded = set(groups[0][groups[1] > 1].tolist())
    assert risk.collisions == np.mean([landed[i] in crowded for i in inverse])


def test_bfloat16_casts_agree_with_torch() -> None:
    import torch

    x = np.random.default_rng(4).normal(size=4000).astype(np.float32) * np.float32(1e3)
    x = np.concatenate([x, np.array([3.39e38, 1e-40, -2.5, 1.0078125], dtype=np.float32)])
    expected = torch.from_numpy(x).to(torch.bfloat16).to(torch.float64).numpy()
    assert np.array_equal(cast(x.astype(np.float64), FORMATS["bfloat16"]), expected)


def test_precision_figures_before_and_after_and_the_json_form() -> None:
    rng = np.random.default_rng(8)
    offset = {"reading": 1e6 + rng.normal(0, 0.01, 2000), "normal": rng.normal(size=2000)}
    found = nl.advise(offset)
    before, after = (found.precision["reading"][s] for s in ("before", "after"))
    as16 = {r.format: r for r in before}["float16"]
    assert as16.overflow == 1.0  # 1e6 is beyond float16
    assert {r.format: r for r in before}["float32"].collisions > 0.9  # spacing 0.06 > std
    assert all(r.overflow == 0 for r in after) and after[2].collisions == 0
    import json

    assert json.loads(json.dumps(found.to_dict(), allow_nan=False))["spec"] == found.spec()


def test_the_examples_in_the_docs_run() -> None:
    assert doctest.testmod(advisor).failed == 0
