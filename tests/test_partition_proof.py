"""The same rows in any chunking and order give the same lock fingerprint."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import normlock as nl
from tests.adversarial import columns

SPEC = {
    "offset": "standard",
    "ramp": "minmax",
    "skewed": ["log1p", "standard"],
    "heavy": "robust",
    "ranked": {"method": "quantile", "n_quantiles": 100},
    "power": "yeo-johnson",
    "clipped": [{"method": "clip", "lower_percentile": 1, "upper_percentile": 99}, "standard"],
}


def frame(rows: int = 6000) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    adversarial = columns()
    return pd.DataFrame(
        {
            "offset": adversarial["offset_1e12"][:rows]
            if rows <= 5000
            else 1e12 + rng.normal(0, 1e-3, rows),
            "ramp": np.linspace(1e8, 1e8 + 1, rows),
            "skewed": rng.lognormal(3, 2, rows),
            "heavy": rng.standard_cauchy(rows),
            "ranked": rng.normal(size=rows),
            "power": rng.gamma(2.0, 3.0, rows),
            "clipped": rng.standard_t(2, rows),
        }
    )


def fit_chunks(
    data: pd.DataFrame, chunks: int, reverse: bool, spec: dict[str, object] = SPEC
) -> nl.Lock:
    parts = [data.iloc[idx] for idx in np.array_split(np.arange(len(data)), chunks)]
    if reverse:
        parts.reverse()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        return nl.fit(parts, spec)


@pytest.mark.parametrize("chunks", [1, 2, 16, 200])
@pytest.mark.parametrize("reverse", [False, True])
def test_fingerprint_does_not_depend_on_chunking(chunks: int, reverse: bool) -> None:
    data = frame()
    assert fit_chunks(data, chunks, reverse).fingerprint == fit_chunks(data, 1, False).fingerprint


# a power transform needs every value: past exact_limit (3,000,000 rows) it is an error
LARGE_SPEC = {name: entry for name, entry in SPEC.items() if name != "power"}


def large_frame(rows: int) -> pd.DataFrame:
    """Columns of every kind, with repeated rows (an eighth of them) and NaNs."""
    rng = np.random.default_rng(rows)
    table = {
        "offset": 1e12 + rng.normal(0, 1e-3, rows),
        "ramp": np.linspace(-1e8, 1e8 + 1, rows),
        "skewed": rng.lognormal(3, 2, rows),
        "heavy": rng.standard_cauchy(rows),
        "ranked": rng.normal(size=rows).astype(np.float32),
        "clipped": rng.standard_t(2, rows),
    }
    repeats = rng.integers(0, rows, rows // 8)
    for values in table.values():
        values[repeats] = values[repeats[::-1]]
        values[rng.integers(0, rows, rows // 100)] = np.nan
    return pd.DataFrame(table)


@pytest.mark.parametrize("rows", [10_000, 300_000, 3_000_000])
def test_fingerprint_is_the_same_for_any_chunking_at_every_size(rows: int) -> None:
    """Below and above the sample's size and exact_limit: the reference quantiles come from
    rows chosen by their content, so 1, 2, 16 and 200 chunks, forward or backward, give
    one lock, and the row sketch too."""
    table = large_frame(rows)
    whole = fit_chunks(table, 1, False, LARGE_SPEC)
    assert whole.feature("heavy").reference["quantile_mode"] == (
        "exact" if rows < 65_536 else "sample"
    )
    for chunks in (2, 16, 200):
        for reverse in (False, True):
            split = fit_chunks(table, chunks, reverse, LARGE_SPEC)
            assert split.fingerprint == whole.fingerprint, (chunks, reverse)
            assert split.row_sketch == whole.row_sketch


def test_fingerprint_does_not_depend_on_row_order() -> None:
    data = frame()
    shuffled = data.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert fit_chunks(shuffled, 7, False).fingerprint == fit_chunks(data, 1, False).fingerprint


def test_fingerprint_changes_with_the_data() -> None:
    data = frame()
    changed = data.copy()
    changed.loc[17, "ramp"] = np.nextafter(changed.loc[17, "ramp"], np.inf)
    assert fit_chunks(changed, 1, False).fingerprint != fit_chunks(data, 1, False).fingerprint


def test_numpy_chunks_iterator_and_function_agree() -> None:
    data = frame().to_numpy()
    spec = {f"x{i}": "standard" for i in range(data.shape[1])}
    parts = np.array_split(data, 9)
    one_shot = nl.fit(iter(parts), spec)
    rereadable = nl.fit(lambda: iter(parts), spec)
    whole = nl.fit(data, spec)
    assert one_shot.fingerprint == rereadable.fingerprint == whole.fingerprint


def test_the_exact_limit_counts_finite_values_per_feature() -> None:
    """12 rows with 3 NaN hold 9 finite values: a power transform, which needs every value,
    fits under a limit of 10 in any chunking; past the limit it reads the sample of rows,
    which holds all of them here, so that the lock is the same; so does a robust feature."""
    x = np.array([1.0, 2.0, np.nan, 3.0, 4.0, np.nan, 5.0, 6.0, np.nan, 7.0, 8.0, 9.0])
    spec = {"x": "yeo-johnson"}
    whole = nl.fit({"x": x}, spec, exact_limit=10)
    parts = nl.fit([{"x": c} for c in np.split(x, 4)], spec, exact_limit=10)
    assert whole.fingerprint == parts.fingerprint
    assert whole.feature("x").reference["quantile_mode"] == "exact"
    assert nl.fit({"x": x}, spec, exact_limit=8).fingerprint == whole.fingerprint
    y = np.arange(12.0)
    both = nl.fit({"x": x, "y": y}, {"x": "robust", "y": "robust"}, exact_limit=10)
    params = both.feature("y").steps[0].params
    assert params["median"] == np.median(y) and params["rank_error"] == 0.0


@pytest.mark.parametrize("rows", [10_000, 300_000])
def test_partial_fits_of_any_split_merge_into_the_lock_of_everything(rows: int) -> None:
    """What an engine does with partitions: a partial fit each, merged in any tree, then
    one lock, the same bits as the fit of all rows in one piece (with a named target)."""
    from normlock.fitting import lock_from
    from normlock.partial import PartialFit
    from normlock.spec import load_spec

    table = large_frame(rows)
    table["t"] = np.random.default_rng(1).normal(size=rows)
    spec = load_spec(LARGE_SPEC, None)
    bounds = np.array_split(np.arange(rows), 5)
    partials = []
    for idx in bounds:
        partial = PartialFit(spec, target="t")
        partial.update(table.iloc[idx])
        partials.append(partial)
    left = partials[0]
    for partial in partials[1:]:
        left = left.merge(partial)
    right = partials[4].merge(partials[2].merge(partials[3])).merge(partials[0].merge(partials[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        whole = nl.fit(table, LARGE_SPEC, target="t")
        merged = [lock_from(p, sources=["parts"]) for p in (left, right)]
    assert merged[0].fingerprint == merged[1].fingerprint == whole.fingerprint
    assert merged[0].row_sketch == whole.row_sketch
    assert partials[0].rows == len(bounds[0])  # merging changed neither side


def test_a_partial_fit_that_goes_on_changes_no_lock_or_merge_taken_from_it() -> None:
    """Rows entering a full sample are written in place only while no lock or merge holds
    it: a lock taken mid-stream keeps the reference of the rows it saw, and partial fits
    that go on after a merge leave each other as they were (distinct rows: repeats take
    the path that copies)."""
    from normlock.fitting import lock_from
    from normlock.partial import PartialFit
    from normlock.spec import load_spec

    values = np.random.default_rng(8).normal(size=(300_000, 3))
    table = pd.DataFrame(values, columns=["a", "b", "c"])
    entries = {"a": "standard", "b": "minmax", "c": "robust"}
    spec = load_spec(entries, None)

    def filled() -> PartialFit:
        partial = PartialFit(spec)
        for part in np.array_split(np.arange(150_000), 3):
            partial.update(table.iloc[part])  # the sample fills, then takes rows in place
        return partial

    def features(data: pd.DataFrame) -> list:
        return nl.fit(data, entries).to_document()["features"]

    partial = filled()
    mid = lock_from(partial, sources=["DataFrame"])
    partial.update(table.iloc[150_000:])
    assert mid.to_document()["features"] == features(table.iloc[:150_000])
    assert lock_from(partial, sources=["x"]).fingerprint == nl.fit(table, entries).fingerprint

    left, right = filled(), PartialFit(spec)
    right.update(table.iloc[150_000:150_001])
    merged = left.merge(right)
    left.update(table.iloc[200_000:])
    merged.update(table.iloc[150_001:200_000])
    assert lock_from(merged, sources=["x"]).to_document()["features"] == features(
        table.iloc[:200_000]
    )
    assert lock_from(left, sources=["x"]).to_document()["features"] == features(
        pd.concat([table.iloc[:150_000], table.iloc[200_000:]])
    )
