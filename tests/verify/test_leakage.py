"""Leakage: overlap estimates from the row sketch, and the train/holdout refit verdict."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import normlock as nl
from normlock.stats.rows import DEFAULT_ROW_SKETCH_K, RowSketch
from normlock.verify import compare_split, estimate_overlap

PIXELS = [f"px{i}" for i in range(64)]


def as_columns(matrix: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    return {n: matrix[:, i] for i, n in enumerate(names)}


def fit_quietly(data: object, spec: object = None) -> nl.Lock:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)  # digits has constant pixels
        return nl.fit(data, spec)


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pixels = load_digits().data
    train, test = train_test_split(pixels, test_size=0.25, random_state=0)
    return pixels, train, test


def test_a_lock_fitted_before_the_split_is_flagged_on_the_test_split() -> None:
    everything, train, test = digits_split()
    leaked = estimate_overlap(fit_quietly(as_columns(everything, PIXELS)), as_columns(test, PIXELS))
    assert leaked.flagged and leaked.exact
    assert (leaked.rows, leaked.checked, leaked.found, leaked.fraction) == (450, 450, 450, 1.0)
    clean = estimate_overlap(fit_quietly(as_columns(train, PIXELS)), as_columns(test, PIXELS))
    assert not clean.flagged and clean.fraction == 0.0
    assert "LEAKAGE: 100.0%" in leaked.describe() and clean.describe().startswith("ok: 0.0%")


def test_train_holdout_mode_names_the_data_the_statistics_came_from() -> None:
    everything, train, test = digits_split()
    train_cols, test_cols = as_columns(train, PIXELS), as_columns(test, PIXELS)
    before = compare_split(fit_quietly(as_columns(everything, PIXELS)), train_cols, test_cols)
    assert before.verdict == "train+holdout" and before.leaked
    assert (before.train_rows, before.holdout_rows) == (1347, 450)
    after = compare_split(fit_quietly(train_cols), train_cols, test_cols)
    assert after.verdict == "train" and not after.leaked
    elsewhere = compare_split(fit_quietly(test_cols), train_cols, test_cols)
    assert elsewhere.verdict == "neither" and "match neither" in elsewhere.describe()
    with pytest.raises(nl.ColumnNotFoundError, match=r"'px63' .*not found in the split"):
        compare_split(fit_quietly(train_cols), as_columns(train[:, :63], PIXELS[:63]), test_cols)


def test_train_holdout_mode_with_a_target_sampled_quantiles_and_chains() -> None:
    """Past exact_limit, and past the sample's size, quantiles come from the sample of
    rows, which is the same for the same rows: the refits reproduce them bit for bit."""
    rng = np.random.default_rng(4)
    rows = 80_000
    table = {"x": rng.lognormal(0, 1, rows), "y": rng.normal(size=rows), "t": rng.normal(size=rows)}
    spec = {"x": ["log1p", "robust"], "y": "quantile"}
    half = {k: v[:70_000] for k, v in table.items()}
    rest = {k: v[70_000:] for k, v in table.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        lock = nl.fit(table, spec, target="t", exact_limit=500)  # quantiles sampled
    assert lock.feature("y").steps[0].params["rank_error"] > 0
    verdict = compare_split(lock, half, rest)
    assert verdict.verdict == "train+holdout"
    assert (
        compare_split(nl.fit(half, spec, target="t", exact_limit=500), half, rest).verdict
        == "train"
    )


def ten_million_row_lock() -> tuple[nl.Lock, np.ndarray]:
    """A lock whose sketch covers 10 million rows: the real sketch of 10 million rows,
    attached to a lock of the same features (cheaper than fitting them)."""
    rng = np.random.default_rng(10)
    rows = rng.normal(size=(10_000_000, 2))
    sketch = RowSketch().update([rows[:, 0], rows[:, 1]])
    lock = nl.fit(as_columns(rows[:1000], ["u", "v"]))
    return replace(lock, row_sketch=sketch), rows


def test_half_overlap_is_found_against_ten_million_fitted_rows() -> None:
    lock, fitted = ten_million_row_lock()
    rng = np.random.default_rng(11)
    for _ in range(10):
        seen = fitted[rng.choice(len(fitted), 500, replace=False)]
        holdout = np.vstack([seen, rng.normal(size=(500, 2)) + 100.0])  # 500 new rows
        report = estimate_overlap(lock, as_columns(holdout, ["u", "v"]))
        assert report.flagged, report.describe()
        low, high = report.interval
        assert low <= 0.5 <= high and not report.exact
    disjoint = estimate_overlap(lock, as_columns(rng.normal(size=(1000, 2)) + 100.0, ["u", "v"]))
    assert disjoint.found == 0 and not disjoint.flagged


def test_detection_and_false_positive_rates_at_the_ten_million_sampling_rate() -> None:
    """A 100,000-row fit with k = 1,600 samples rows at the rate of 10 million rows with
    the default k = 160,000; 300 holdouts of 1,000 rows each way."""
    rng = np.random.default_rng(12)
    fitted = rng.normal(size=(100_000, 2))
    sketch = RowSketch(k=1_600).update([fitted[:, 0], fitted[:, 1]])
    assert sketch.sampling_rate == pytest.approx(DEFAULT_ROW_SKETCH_K / 10_000_000, rel=0.1)
    lock = replace(nl.fit(as_columns(fitted[:100], ["u", "v"])), row_sketch=sketch)
    detected = false_alarms = 0
    for _ in range(300):
        seen = fitted[rng.choice(len(fitted), 500, replace=False)]
        fresh = rng.normal(size=(1500, 2)) + 50.0
        half = as_columns(np.vstack([seen, fresh[:500]]), ["u", "v"])
        detected += estimate_overlap(lock, half).flagged
        false_alarms += estimate_overlap(lock, as_columns(fresh[500:], ["u", "v"])).flagged
    assert detected >= 297 and false_alarms <= 3


def test_disjoint_random_splits_are_not_flagged() -> None:
    rng = np.random.default_rng(13)
    table = rng.normal(size=(2000, 3)).round(6)
    flagged = 0
    for _ in range(100):
        order = rng.permutation(len(table))
        train, test = table[order[:1500]], table[order[1500:]]
        lock = nl.fit(as_columns(train, ["a", "b", "c"]))
        flagged += estimate_overlap(lock, as_columns(test, ["a", "b", "c"])).flagged
    assert flagged <= 1


@pytest.mark.parametrize(("found", "checked"), [(0, 12), (3, 12), (12, 12), (40, 1000)])
def test_interval_is_clopper_pearson(found: int, checked: int) -> None:
    from normlock.verify.leakage import _interval

    reference = binomtest(found, checked).proportion_ci(0.95, method="exact")
    assert _interval(found, checked, 0.95, exact=False) == pytest.approx(
        (reference.low, reference.high), abs=1e-9
    )


def test_too_few_rows_are_inconclusive_and_a_lock_without_sketch_is_an_error() -> None:
    lock, _ = ten_million_row_lock()
    tiny = estimate_overlap(lock, {"u": np.array([500.0]), "v": np.array([1.0])})
    assert not tiny.conclusive and not tiny.flagged and "inconclusive" in tiny.describe()
    with pytest.raises(nl.InputError, match="carries no row sketch"):
        estimate_overlap(replace(lock, row_sketch=None), {"u": [1.0], "v": [2.0]})
    with pytest.raises(nl.ColumnNotFoundError, match="'v' not found"):
        estimate_overlap(lock, {"u": np.array([1.0])})
