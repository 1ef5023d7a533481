"""Whitening groups: decorrelated outputs, scikit-learn references, exact partitions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from sklearn.covariance import ledoit_wolf
from sklearn.decomposition import PCA

import normlock as nl
from normlock.diff import diff_locks
from normlock.errors import DomainError, NotFittedError, SpecError
from normlock.render import lock_overview

COLUMNS = ["a", "b", "c", "d"]


def correlated(rows: int = 4000, seed: int = 0, scales=(0.5, 1.0, 3.0, 2.0)) -> np.ndarray:
    """Correlated columns with an offset of 1e6 on one."""
    rng = np.random.default_rng(seed)
    mixing = np.array([[1, 0.6, 0.2, 0], [0, 1, 0.5, 0.3], [0, 0, 1, 0.4], [0, 0, 0, 1]])
    x = rng.normal(size=(rows, 4)) @ mixing
    return x * np.array(scales) + [0.0, 1e6, -3.0, 0.0]


WIDE = (1e-3, 1.0, 50.0, 1e4)
"""Scales 1e-3 to 1e4: a covariance too ill-conditioned to whiten unstandardized."""


def group(method: str, **options) -> dict:
    return {"groups": [{"columns": COLUMNS, "method": method, **options}]}


def frame(x: np.ndarray) -> dict[str, np.ndarray]:
    return {name: x[:, j] for j, name in enumerate(COLUMNS)}


@pytest.mark.parametrize(
    ("method", "scales", "options"),
    [
        ("pca", None, {}),
        ("zca", None, {}),
        ("cholesky", None, {}),
        ("pca", WIDE, {"standardize": True}),
        ("zca", WIDE, {"standardize": True}),
        ("cholesky", WIDE, {}),
    ],
)
def test_outputs_are_decorrelated_and_invert_on_the_training_data(method, scales, options) -> None:
    x = correlated() if scales is None else correlated(scales=scales)
    lock = nl.fit(frame(x), group(method, **options))
    out = lock.transform(frame(x))
    y = np.column_stack([out[n] for n in lock.output_columns])
    assert np.max(np.abs(np.cov(y, rowvar=False) - np.eye(4))) < 1e-12
    assert np.max(np.abs(y.mean(axis=0))) < 1e-10  # the spacing of float64 at 1e6 is 1.2e-10
    assert lock.groups[0].options["residual"] < 1e-12
    back = lock.inverse_transform(out)
    for j, name in enumerate(COLUMNS):
        np.testing.assert_allclose(back[name], x[:, j], rtol=1e-12, atol=1e-9 * np.std(x[:, j]))


def test_pca_matches_scikit_learn_up_to_sign_and_keeps_a_variance_share() -> None:
    x = correlated()
    reference = PCA(whiten=True, svd_solver="full").fit(x)  # "auto" squares the offset away
    lock = nl.fit(frame(x), group("pca"))
    y = np.column_stack(list(lock.transform(frame(x)).values()))
    expected = reference.transform(x)
    signs = np.sign(np.sum(y * expected, axis=0))
    np.testing.assert_allclose(y, expected * signs, rtol=1e-9, atol=1e-9)
    matrix = lock.groups[0].matrix
    assert np.all(matrix[np.arange(4), np.argmax(np.abs(matrix), axis=1)] > 0)  # sign rule
    share = nl.fit(frame(x), group("pca", variance=0.9))
    kept = int(np.searchsorted(np.cumsum(reference.explained_variance_ratio_), 0.9) + 1)
    assert share.output_columns == tuple(f"group0_pc{i + 1}" for i in range(kept))
    two = nl.fit(frame(x), group("pca", components=2, outputs=["first", "second"]))
    out = two.transform(frame(x))
    assert list(out) == ["first", "second"]
    truncated = PCA(n_components=2, whiten=True, svd_solver="full").fit(x)
    restored = two.inverse_transform(out)
    gap = np.column_stack([restored[n] for n in COLUMNS]) - truncated.inverse_transform(
        truncated.transform(x)
    )
    assert np.all(np.abs(gap) <= 1e-9 * x.std(axis=0))


def test_shrinkage_declared_or_ledoit_wolf_and_epsilon() -> None:
    x = correlated(2000)
    lw = nl.fit(frame(x), group("zca", shrinkage="ledoit-wolf", ddof=0))
    expected_share = ledoit_wolf(x)[1]
    assert lw.groups[0].options["shrinkage"] == pytest.approx(expected_share, rel=1e-10)
    shrunk_cov = ledoit_wolf(x)[0]
    y = np.column_stack(list(lw.transform(frame(x)).values()))
    centered = y - y.mean(axis=0)
    # whitening the shrunk covariance: W S* W' = I, so the data's covariance is W S W'
    w = lw.groups[0].matrix
    np.testing.assert_allclose(w @ shrunk_cov @ w.T, np.eye(4), atol=1e-10)
    assert not np.allclose(centered.T @ centered / len(y), np.eye(4), atol=1e-6)
    fixed = nl.fit(frame(x), group("cholesky", shrinkage=0.25, epsilon=1e-3))
    assert fixed.groups[0].options["shrinkage"] == 0.25
    assert fixed.groups[0].options["epsilon"] == 1e-3


def test_any_chunking_gives_the_same_lock() -> None:
    x = correlated(3000, seed=4)
    spec = {"features": {"a": "minmax"}, "groups": [{"columns": ["b", "c", "d"], "method": "zca"}]}
    whole = nl.fit(frame(x), spec)
    chunks = [frame(x[s : s + 700]) for s in range(0, 3000, 700)]
    assert nl.fit(chunks, spec).fingerprint == whole.fingerprint
    assert nl.fit(chunks[::-1], spec).fingerprint == whole.fingerprint
    assert whole.format_version == 2
    loaded = nl.Lock.from_json(whole.to_json())
    assert loaded.fingerprint == whole.fingerprint
    got, again = whole.transform(x), loaded.transform(x)
    assert np.array_equal(got.view(np.uint64), again.view(np.uint64))
    plain = nl.fit(frame(x), {"features": {"a": "minmax"}})
    assert plain.format_version == 1 and "groups" not in plain.to_document()


def test_every_container_gives_the_same_bits_and_the_output_columns() -> None:
    x = correlated(500)
    data = {**frame(x), "label": np.arange(500.0)}
    spec = {
        "features": {"label": "passthrough"},
        "groups": [{"columns": ["b", "a", "c"], "method": "pca", "components": 2}],
    }
    lock = nl.fit(data, spec)
    assert lock.output_columns == ("group0_pc1", "group0_pc2", "d", "label")
    expected = lock.transform(data)
    assert list(expected) == list(lock.output_columns)
    matrix = np.column_stack([data[n] for n in lock.columns])
    as_array = lock.transform(matrix)
    pandas_out = lock.transform(pd.DataFrame(data))
    polars_out = lock.transform(pl.DataFrame(data))
    arrow_out = lock.transform(pa.table(data))
    for j, name in enumerate(lock.output_columns):
        for got in (as_array[:, j], pandas_out[name], polars_out[name], arrow_out[name]):
            assert np.array_equal(np.asarray(got), expected[name]), name
    back = lock.inverse_transform(pandas_out)
    assert list(back.columns) == list(lock.columns)
    assert np.array_equal(back["label"], data["label"])
    single = lock.transform({n: float(v[7]) for n, v in data.items()})
    assert single["group0_pc1"] == expected["group0_pc1"][7]


def test_float32_in_float32_out_and_nan_rows() -> None:
    x = correlated(800)
    x[10, 2] = np.nan
    with pytest.warns(nl.NormlockWarning, match="left out"):
        lock = nl.fit(frame(x), group("zca"))
    assert lock.groups[0].options["skipped"] == 1
    out = lock.transform(frame(x.astype(np.float32)))
    assert all(v.dtype == np.float32 for v in out.values())
    assert all(np.isnan(out[n][10]) for n in COLUMNS)
    assert np.isfinite(out["a"][11])
    strict = {"groups": [{"columns": COLUMNS, "method": "zca", "nan": "error"}]}
    with pytest.raises(nl.InputError, match="policy forbids"):
        nl.fit(frame(x), strict)
    fitted = nl.fit(frame(correlated(800)), strict)
    with pytest.raises(DomainError, match="NaN"):
        fitted.transform(frame(x))
    with pytest.raises(DomainError, match=r"group 'group0'.*non-finite float32"):
        lock.transform(frame(np.full((1, 4), 3e38, dtype=np.float32)))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {
                "groups": [
                    {"columns": ["a", "b"], "method": "zca"},
                    {"columns": ["b"], "method": "pca"},
                ]
            },
            "'b' is in groups 'group0' and 'group1'",
        ),
        ({"groups": [{"columns": ["a", "b"], "method": "whiten"}]}, "'method' must be one of"),
        (
            {"groups": [{"columns": ["a", "b"], "method": "zca", "components": 1}]},
            "method .pca. only",
        ),
        ({"groups": [{"columns": ["a", "b"], "method": "pca", "components": 3}]}, "has 2 columns"),
        ({"groups": [{"columns": ["a", "b"], "method": "zca", "epsilon": -1}]}, ">= 0"),
        ({"groups": [{"columns": ["a", "b"], "method": "zca", "shrink": 1}]}, "unknown key"),
        ({"groups": [{"columns": ["a", "b"], "method": "zca", "shrinkage": 2}]}, r"\[0, 1\]"),
        (
            {"features": {"a": "standard"}, "groups": [{"columns": ["a", "b"], "method": "zca"}]},
            "centers and scales it",
        ),
    ],
)
def test_bad_group_specs_are_clear_errors(spec: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        nl.fit(frame(correlated(50)), spec)


def test_missing_or_singular_groups_say_what_to_do() -> None:
    x = correlated(300)
    with pytest.raises(nl.ColumnNotFoundError, match="'e'"):
        nl.fit(frame(x), {"groups": [{"columns": ["a", "e"], "method": "zca"}]})
    with pytest.raises(NotFittedError, match="standardize: true"):
        nl.fit(frame(correlated(300, scales=WIDE)), group("zca"))
    twin = {**frame(x), "e": 2.0 * x[:, 0]}
    singular = {"groups": [{"columns": ["a", "e"], "method": "zca"}]}
    with pytest.raises(NotFittedError, match=r"singular.*'epsilon'"):
        nl.fit(twin, singular)
    singular["groups"][0]["epsilon"] = 1e-9
    assert nl.fit(twin, singular).groups[0].options["epsilon"] == 1e-9


def test_checks_that_do_not_cover_groups_say_so() -> None:
    lock = nl.load(Path(__file__).parents[1] / "golden" / "v2" / "whitening.normlock.json")
    with pytest.raises(nl.InputError, match="does not cover"):
        lock.verify(lambda x: x)
    with pytest.raises(nl.InputError, match="stage='raw'"):
        lock.monitor("normalized")
    assert "groups" in lock_overview(lock)
    other = replace(lock, groups=lock.groups[:1])
    changes = diff_locks(lock, other).changes
    assert [(c.feature, c.kind) for c in changes] == [("group work", "removed")]


def test_a_dask_fit_of_partitions_is_the_local_lock() -> None:
    import dask.dataframe as dd

    import normlock.dask as nld

    x = correlated(2000, seed=9)
    local = nl.fit(pd.DataFrame(frame(x)), group("zca", shrinkage="ledoit-wolf"))
    partitions = dd.from_pandas(pd.DataFrame(frame(x)), npartitions=5)
    spec = group("zca", shrinkage="ledoit-wolf")
    assert nld.fit(partitions, spec, scheduler="threads").fingerprint == local.fingerprint


def test_the_scikit_learn_wrapper_names_and_inverts_pca_components() -> None:
    """In a Pipeline, a pca group's components are the output columns, and
    inverse_transform takes them back (a truncated pca to its reconstruction)."""
    from normlock.errors import InputError
    from normlock.sklearn import NormlockTransformer

    data = pd.DataFrame(correlated(2_000), columns=COLUMNS)
    spec = {"groups": [{"columns": COLUMNS, "method": "pca", "components": 2}]}
    wrapper = NormlockTransformer(spec=spec).fit(data)
    out = wrapper.transform(data)
    lock = wrapper.lock_
    # column b (offset 1e6) feeds the group: its raw values are no model input to warn of
    assert not any("float16" in w for f in lock.features for w in f.warnings)
    assert list(wrapper.get_feature_names_out()) == list(lock.output_columns)
    assert out.shape == (2_000, 2) and len(lock.output_columns) == 2
    back = wrapper.inverse_transform(out)
    assert np.array_equal(back, lock.inverse_transform(out))
    reference = PCA(n_components=2, svd_solver="full").fit(data.to_numpy())
    expected = reference.inverse_transform(reference.transform(data.to_numpy()))
    assert np.allclose(back, expected, atol=1e-9 * np.abs(expected).max())
    with pytest.raises(InputError, match="needs the 2 columns the transform returns"):
        wrapper.inverse_transform(data.to_numpy())
