"""Served data already normalized by another convention: signatures, batch verdicts, words."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import datasets

import normlock as nl
from normlock.monitor.conventions import Spread, convention_of
from normlock.stats import Summary


def _report(lock: nl.Lock, *batches: dict[str, np.ndarray], stage: str = "raw"):
    monitor = lock.monitor(stage)
    for batch in batches:
        monitor.update(batch)
    return monitor.report()


def _spread(values: np.ndarray) -> Spread:
    return Spread.of_summary(Summary.empty().update(values))


def _cancer() -> tuple[nl.Lock, dict[str, np.ndarray], dict[str, np.ndarray]]:
    cancer = datasets.load_breast_cancer()
    names = [n.replace(" ", "_") for n in cancer.feature_names]
    order = np.random.default_rng(3).permutation(cancer.data.shape[0])
    train = {n: cancer.data[order[:340], i] for i, n in enumerate(names)}
    served = {n: cancer.data[order[340:], i] for i, n in enumerate(names)}
    return nl.fit(train), train, served


def test_a_spread_reads_the_values_and_undoes_an_affine_map() -> None:
    x = np.random.default_rng(0).gamma(3, 2, 500)
    spread = _spread(x)
    assert (spread.count, spread.min, spread.max) == (500, x.min(), x.max())
    assert np.isclose(spread.mean, np.mean(x), rtol=1e-15)
    assert np.isclose(spread.std, np.std(x), rtol=1e-14)
    assert np.isclose(spread.square_sum, np.sum(x**2), rtol=1e-13)
    back = _spread(-2.5 * x + 7).before(-2.5, 7)
    assert np.allclose(
        [back.min, back.max, back.mean, back.std], [x.min(), x.max(), x.mean(), x.std()]
    )


def test_unit_norm_is_one_batch_or_several_in_float64_or_float32() -> None:
    l2 = convention_of("l2").served
    x = np.random.default_rng(1).normal(170, 9, 800)
    assert l2(_spread(x / np.linalg.norm(x)))
    assert l2(_spread((x / np.linalg.norm(x)).astype(np.float32).astype(np.float64)))
    parts = [x[i::3] / np.linalg.norm(x[i::3]) for i in range(3)]
    assert l2(_spread(np.concatenate(parts)))  # Σx² = 3: three batches of unit norm
    assert not l2(_spread(x / np.linalg.norm(x) * 1.001))
    one_hot = np.zeros(50)
    one_hot[7] = 1.0  # Σx² = 1 with integers: a 0/1 column, not a normalized one
    assert not l2(_spread(one_hot))


def test_ranges_need_their_width_and_min_max_to_minus_one_needs_negative_values() -> None:
    unit, symmetric = convention_of("minmax01").served, convention_of("minmax11").served
    assert unit(_spread(np.linspace(0, 1, 50)))
    assert unit(_spread(np.linspace(-0.04, 1.04, 50)))  # fitted on other data: a little out
    assert not unit(_spread(np.linspace(0.1, 0.4, 50)))  # in [0, 1] but a third of it
    assert not unit(_spread(np.linspace(0, 1.2, 50)))
    assert symmetric(_spread(np.linspace(-1, 1, 50)))
    assert not symmetric(_spread(np.linspace(0, 1, 50)))  # that is [0, 1]
    standard = convention_of("standard").served
    assert standard(_spread(np.random.default_rng(2).normal(0.2, 0.9, 400)))
    assert not standard(_spread(np.random.default_rng(2).normal(0.8, 1, 400)))


def test_columns_already_in_0_1_in_training_are_never_called_normalized() -> None:
    lock, train, served = _cancer()
    report = _report(lock, {n: (v - v.min()) / (v.max() - v.min()) for n, v in served.items()})
    bounded = {n for n, v in train.items() if v.min() >= 0 and v.max() <= 1}
    assert 10 <= len(bounded) < len(train)
    (found,) = [f for f in report.findings if f.kind == "double_normalization"]
    assert found.root_cause and set(found.features) == set(train) - bounded
    assert "every feature lies in [0, 1], min-max to [0, 1]" in found.message


def test_the_message_names_the_common_scale_and_the_evidence_is_json() -> None:
    lock, train, served = _cancer()
    report = _report(
        lock, {n: 2 * (v - v.min()) / (v.max() - v.min()) - 1 for n, v in served.items()}
    )
    (found,) = report.findings
    assert found.kind == "double_normalization" and len(found.features) == 30
    assert found.message.startswith(
        "30 of 30 features arrive already normalized by another convention: every feature "
        "lies in [-1, 1], min-max to [-1, 1] (mean_radius, "
    )
    radius = train["mean_radius"]
    assert (
        f"e.g. mean_radius: range -1.00 to 1.00; training mean {np.mean(radius):.1f}, std "
        f"{np.std(radius):.2f}, range {radius.min():.2f} to {radius.max():.1f} —"
    ) in found.message
    assert found.message.endswith("undo that scaling and feed the lock raw values.")
    evidence = json.loads(json.dumps(found.to_dict()))["evidence"]
    radius = evidence["features"]["mean_radius"]
    assert (
        radius["convention"] == "minmax11"
        and radius["cause"] == "already min-max scaled to [-1, 1]"
    )
    assert radius["lock_inputs"]["min"] == -1.0 and radius["lock_inputs"]["max"] == 1.0


def test_l2_over_several_batches_and_before_the_lock() -> None:
    rng = np.random.default_rng(4)
    train = {
        "a": rng.normal(50, 5, 2000),
        "b": rng.gamma(4, 10, 2000),
        "c": rng.normal(-3, 2, 2000),
    }
    batches = [
        {
            n: v / np.linalg.norm(v)
            for n, v in {k: rng.permutation(x)[:300] for k, x in train.items()}.items()
        }
        for _ in range(4)
    ]
    lock = nl.fit(train)
    (found,) = _report(lock, *batches).findings
    assert found.kind == "double_normalization" and set(found.features) == {"a", "b", "c"}
    assert "columns have unit L2 norm, each value ≈ x/‖x‖" in found.message
    assert "4 batches of unit norm each" in found.message
    (inputs,) = _report(lock, *[lock.transform(b) for b in batches], stage="normalized").findings
    assert inputs.kind == "double_normalization"
    assert "already normalized by another convention before the lock" in inputs.message


@settings(max_examples=25, deadline=None)
@given(
    shift=st.floats(-2.0, 2.0),
    spread=st.floats(0.7, 1.4),
    center=st.floats(5.0, 1e4),
    seed=st.integers(0, 2**16),
)
def test_drift_of_raw_unit_data_is_never_called_normalized(
    shift: float, spread: float, center: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    scales = center * np.array([0.05, 0.1, 0.2, 0.3])
    train = {f"x{i}": rng.normal(center, s, 1000) for i, s in enumerate(scales)}
    served = {
        f"x{i}": rng.normal(center + shift * s, spread * s, 300) for i, s in enumerate(scales)
    }
    report = _report(nl.fit(train), served)
    assert not any(f.kind == "double_normalization" for f in report.findings), str(report)
    assert "already normalized" not in str(report)
