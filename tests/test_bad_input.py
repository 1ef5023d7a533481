"""Every bad input gives one clear error naming the feature (or file) and the remedy."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import normlock as nl

TRAIN = pd.DataFrame({"age": [20.0, 30.0, 40.0, 50.0], "income": [1e3, 2e3, 5e3, 1e4]})
LOCK = nl.fit(TRAIN, {"income": ["log1p", "standard"]})


def test_missing_column_names_it_with_a_hint() -> None:
    with pytest.raises(nl.ColumnNotFoundError, match=r"'income' \(did you mean 'incme'\?\)"):
        LOCK.transform(pd.DataFrame({"age": [1.0], "incme": [2.0]}), extra="keep")


def test_extra_column_is_an_error_with_a_remedy() -> None:
    data = TRAIN.assign(label=[0, 1, 0, 1])
    with pytest.raises(nl.InputError, match=r"\['label'\] are not in the lock.*extra='keep'"):
        LOCK.transform(data)
    assert LOCK.transform(data, extra="keep")["label"].tolist() == [0, 1, 0, 1]


def test_wrong_array_width() -> None:
    with pytest.raises(nl.InputError, match=r"has 3 columns but the lock expects 2 .*age, income"):
        LOCK.transform(np.zeros((4, 3)))


def test_non_numeric_value_names_column_and_row() -> None:
    data = pd.DataFrame({"age": [1.0, 2.0], "income": np.array([1.0, "abc"], dtype=object)})
    with pytest.raises(nl.InputError, match=r"column 'income', row 2: 'abc' is not a number"):
        LOCK.transform(data)


def test_non_numeric_column_at_fit_needs_passthrough() -> None:
    with pytest.raises(
        nl.InputError, match=r"column 'city' is not numeric; declare it with 'city: passthrough'"
    ):
        nl.fit(TRAIN.assign(city=["a", "b", "c", "d"]))


def test_nan_policy_error_names_feature_and_row() -> None:
    lock = nl.fit(TRAIN, {"age": {"method": "standard", "nan": "error"}})
    with pytest.raises(nl.DomainError, match=r"feature 'age', row 2: NaN/missing .*impute"):
        lock.transform(pd.DataFrame({"age": [1.0, np.nan], "income": [1.0, 2.0]}))
    with pytest.raises(nl.InputError, match=r"feature 'age', row 3: NaN"):
        nl.fit(
            pd.DataFrame({"age": [1.0, 2.0, np.nan]}),
            {"age": {"method": "standard", "nan": "error"}},
        )


def test_infinity_is_rejected_by_default_and_counted_when_kept() -> None:
    with pytest.raises(nl.InputError, match=r"feature 'age', row 2: infinite value .*inf='keep'"):
        nl.fit(pd.DataFrame({"age": [1.0, np.inf, 3.0]}))
    lock = nl.fit(
        pd.DataFrame({"age": [1.0, np.inf, 3.0]}), {"age": {"method": "standard", "inf": "keep"}}
    )
    assert lock.feature("age").reference["posinf"] == 1
    assert lock.feature("age").steps[0].params["mean"] == 2.0
    with pytest.raises(nl.DomainError, match=r"feature 'age', row 1: infinite"):
        LOCK.transform(pd.DataFrame({"age": [np.inf], "income": [1.0]}))


def test_constant_column_warns_and_scales_by_one() -> None:
    with pytest.warns(nl.NormlockWarning, match="feature 'c': constant column"):
        lock = nl.fit({"c": np.full(10, 3.5)})
    assert lock.transform({"c": np.array([3.5, 4.5])})["c"].tolist() == [0.0, 1.0]
    assert lock.feature("c").warnings


def test_all_missing_column_is_a_clear_error() -> None:
    with pytest.raises(
        nl.NotFittedError,
        match=r"feature 'm': method 'standard' found no finite value .*passthrough",
    ):
        nl.fit({"m": np.full(5, np.nan)})


def test_empty_input() -> None:
    with pytest.raises(nl.InputError, match="every chunk was empty"):
        nl.fit(pd.DataFrame({"a": np.array([], dtype=float)}))
    with pytest.raises(nl.InputError, match="yielded no chunk"):
        nl.fit(iter([]))


def test_unknown_method_suggests_the_closest() -> None:
    with pytest.raises(
        nl.SpecError, match=r"feature 'age': unknown method 'standart'. Did you mean 'standard'\?"
    ):
        nl.fit(TRAIN, {"age": "standart"})


def test_unknown_option_lists_the_valid_ones() -> None:
    with pytest.raises(
        nl.SpecError,
        match=r"feature 'age': method 'minmax' has no option 'clamp'; "
        r"its options are: clip, feature_range",
    ):
        nl.fit(TRAIN, {"age": {"method": "minmax", "clamp": True}})


def test_spec_naming_an_absent_column() -> None:
    with pytest.raises(
        nl.ColumnNotFoundError,
        match=r"'agee' \(did you mean 'age'\?\) not found in the data \(named in the spec\)",
    ):
        nl.fit(TRAIN, {"agee": "standard"})


def test_out_of_domain_values_name_feature_row_and_step() -> None:
    with pytest.raises(
        nl.DomainError,
        match=r"feature 'income', row 2: value -5.0 is outside the domain of step 'log1p'",
    ):
        LOCK.transform(pd.DataFrame({"age": [1.0, 2.0], "income": [1.0, -5.0]}))
    with pytest.raises(
        nl.DomainError, match=r"feature 'x', row 3: value -2.0 is outside the domain of step 'log'"
    ):
        nl.fit({"x": np.array([1.0, 2.0, -2.0])}, {"x": ["log", "standard"]})


def test_box_cox_needs_positive_values() -> None:
    with pytest.raises(
        nl.NotFittedError, match=r"feature 'x': box-cox needs strictly positive .*yeo-johnson"
    ):
        nl.fit({"x": np.array([1.0, 0.0, 3.0])}, {"x": "box-cox"})


def test_chunks_with_different_columns() -> None:
    with pytest.raises(
        nl.InputError, match=r"chunk 1 has different columns .*missing: \['income'\]"
    ):
        nl.fit([TRAIN, TRAIN[["age"]]])


def test_output_overflow_is_an_error_not_inf() -> None:
    lock = nl.fit({"x": np.array([0.0, 1e-300])}, {"x": "minmax"})
    with pytest.raises(
        nl.DomainError, match=r"feature 'x', row 1: the finite input 1e\+300 gives a non-finite"
    ):
        lock.transform({"x": np.array([1e300])})
    lock32 = nl.fit({"x": np.array([0.0, 1.0])})
    with pytest.raises(nl.DomainError, match="non-finite float32 output"):
        lock32.transform({"x": np.array([3e38], np.float32)})


def test_minmax_range_overflow_at_fit() -> None:
    with pytest.raises(nl.NotFittedError, match="overflows float64; rescale"):
        nl.fit({"x": np.array([-1.7e308, 1.7e308])}, {"x": "minmax"})


def test_inverse_of_a_clipping_chain_is_refused() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lock = nl.fit({"x": np.arange(100.0)}, {"x": [{"method": "clip", "upper": 50}, "standard"]})
    with pytest.raises(nl.NotInvertibleError, match="feature 'x': step 'clip' cannot be inverted"):
        lock.inverse_transform({"x": np.array([0.0])})


def test_invalid_option_values() -> None:
    for entry, message in [
        ({"method": "minmax", "feature_range": [1, 0]}, "must be increasing"),
        ({"method": "standard", "ddof": 2}, "'ddof' must be 0 or 1"),
        ({"method": "quantile", "output_distribution": "gauss"}, "'uniform' or 'normal'"),
        ({"method": "clip"}, "needs a bound"),
        ({"method": "standard", "nan": "drop"}, "'nan' policy must be one of"),
        ("passthrough-ish", "unknown method"),
    ]:
        with pytest.raises(nl.SpecError, match=message):
            nl.fit(TRAIN, {"age": entry})


def _container(kind: str, table: dict[str, np.ndarray]) -> object:
    if kind == "pandas":
        return pd.DataFrame(table)
    if kind == "polars":
        import polars as pl

        return pl.DataFrame(table)
    if kind == "arrow":
        import pyarrow as pa

        return pa.table(table)
    return table


@pytest.mark.parametrize("rows", [50, 300_000])
@pytest.mark.parametrize("kind", ["dict", "pandas", "polars", "arrow"])
def test_fit_errors_name_the_row_at_every_size_in_every_container(rows: int, kind: str) -> None:
    """A NaN the policy forbids and an infinity: one error naming the feature and the row
    (counted from 1), in one chunk or in chunks of a stream, whatever the container."""
    rng = np.random.default_rng(rows)
    table = {"age": rng.normal(40, 9, rows), "income": rng.lognormal(8, 1, rows)}
    table["age"][rows - 7] = np.nan
    spec = {"age": {"method": "standard", "nan": "error"}, "income": "robust"}
    with pytest.raises(nl.InputError, match=rf"feature 'age', row {rows - 6}: NaN/missing"):
        nl.fit(_container(kind, table), spec)
    chunks = [_container(kind, {k: v[i : i + 7] for k, v in table.items()}) for i in (0, 7)]
    if rows > 14:
        rest = {k: v[14:] for k, v in table.items()}
        chunks.append(_container(kind, rest))
    with pytest.raises(nl.InputError, match=rf"feature 'age', row {rows - 6}: NaN/missing"):
        nl.fit(chunks, spec)
    table["age"][rows - 7] = 1.0
    table["income"][3] = np.inf
    with pytest.raises(nl.InputError, match=r"feature 'income', row 4: infinite value"):
        nl.fit(_container(kind, table), spec)
