"""normlock.dask: the same lock, transform and profile as local, on a real cluster."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

import normlock as nl
import normlock.dask as nld
from tests.engines.data import (
    EXACT_ROWS,
    SAMPLED_ROWS,
    full_spec,
    shuffled,
    training_frame,
)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """Two worker processes of one thread each; closed at the end of the module."""
    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster) as connected,
    ):
        yield connected


@pytest.fixture(scope="module", params=[EXACT_ROWS, SAMPLED_ROWS], ids=["exact", "sampled"])
def regime(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, nl.Lock]:
    frame = training_frame(request.param)
    return frame, quiet(nl.fit, frame, full_spec())


def quiet(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.NormlockWarning)
        return function(*args, **kwargs)


@pytest.mark.parametrize("partitions", [1, 3, 17])
def test_fit_on_the_cluster_is_the_local_lock(
    client: Client, regime: tuple[pd.DataFrame, nl.Lock], partitions: int
) -> None:
    frame, local = regime
    assert local.feature("heavy").reference["quantile_mode"] == (
        "exact" if len(frame) == EXACT_ROWS else "sample"
    )
    ddf = dd.from_pandas(frame, npartitions=partitions)
    lock = quiet(nld.fit, ddf, full_spec(), scheduler=client)
    assert lock.fingerprint == local.fingerprint
    assert lock.row_sketch == local.row_sketch
    assert lock.provenance["rows"] == len(frame)


def test_fit_on_shuffled_rows_with_threads_is_the_local_lock(
    regime: tuple[pd.DataFrame, nl.Lock],
) -> None:
    frame, local = regime
    ddf = dd.from_pandas(shuffled(frame), npartitions=7)
    assert quiet(nld.fit, ddf, full_spec(), scheduler="threads").fingerprint == local.fingerprint


def test_transform_is_bit_identical_to_the_local_transform(
    client: Client, regime: tuple[pd.DataFrame, nl.Lock]
) -> None:
    frame, lock = regime
    ddf = dd.from_pandas(frame, npartitions=5)
    lazy = nld.transform(lock, ddf)
    assert dict(lazy.dtypes) == dict(lock.transform(frame).dtypes)
    assert lazy.dtypes["ranked"] == np.float32
    result = client.compute(lazy).result()
    pd.testing.assert_frame_equal(result, lock.transform(frame), check_exact=True)
    expected = lock.transform(frame)
    for name in lock.feature_names:
        assert np.array_equal(
            result[name].to_numpy().view(np.uint8),
            expected[name].to_numpy().view(np.uint8),
        )


def test_profile_merges_into_the_local_profile(
    client: Client, regime: tuple[pd.DataFrame, nl.Lock]
) -> None:
    from normlock.profile import Profile

    frame, lock = regime
    served = frame.iloc[: len(frame) // 2]
    ddf = dd.from_pandas(shuffled(served), npartitions=4)
    merged = nld.profile(lock, ddf, scheduler=client)
    assert merged.to_dict() == Profile.empty(lock).update(served).to_dict()
    normalized = nld.profile(lock, nld.transform(lock, ddf), "normalized", scheduler=client)
    local = Profile.empty(lock, "normalized").update(lock.transform(served))
    assert normalized.to_dict() == local.to_dict()


def test_a_later_chain_step_past_the_exact_limit_reads_the_partitions_again(
    client: Client,
) -> None:
    """``yeo-johnson`` then ``standard`` with more values than ``exact_limit``: the
    second step's summary comes from a second pass over the partitions."""
    frame = training_frame(EXACT_ROWS)[["skewed"]]
    spec = {"skewed": ["yeo-johnson", "standard"]}
    local = quiet(nl.fit, frame, spec, exact_limit=500)
    ddf = dd.from_pandas(frame, npartitions=3)
    lock = quiet(nld.fit, ddf, spec, exact_limit=500, scheduler=client)
    assert lock.fingerprint == local.fingerprint


def test_a_dask_array_fits_transforms_and_profiles_like_numpy() -> None:
    matrix = training_frame(EXACT_ROWS)[["offset", "ramp", "heavy"]].to_numpy()
    array = da.from_array(matrix, chunks=(400, 2))
    with dask.config.set(scheduler="threads"):
        lock = nld.fit(array, names=["a", "b", "c"])
        assert lock.fingerprint == nl.fit(matrix, names=["a", "b", "c"]).fingerprint
        out = nld.transform(lock, array)
        assert out.dtype == np.float64
        assert np.array_equal(out.compute(), lock.transform(matrix), equal_nan=True)
        assert nld.profile(lock, array).rows == len(matrix)


def test_a_missing_column_names_the_partition_and_the_column(client: Client) -> None:
    ddf = dd.from_pandas(training_frame(300), npartitions=3)
    with pytest.raises(nl.ColumnNotFoundError, match=r"^partition \d: column\(s\) 'price'"):
        nld.fit(ddf, {**full_spec(), "price": "standard"}, scheduler=client)
    lock = quiet(nl.fit, training_frame(300), full_spec())
    with pytest.raises(nl.ColumnNotFoundError, match="'heavy' not found"):
        nld.transform(lock, ddf.drop(columns=["heavy"]))


def test_a_string_in_a_numeric_column_names_the_partition_and_the_row(client: Client) -> None:
    frame = training_frame(300)[["id", "offset", "ramp"]].fillna(0.0).astype({"ramp": object})
    frame.loc[250, "ramp"] = "n/a"  # Dask holds the column as strings
    ddf = dd.from_pandas(frame, npartitions=3)
    with pytest.raises(nl.InputError, match=r"^partition 2: .*'ramp'.*row 51.*'n/a'"):
        nld.fit(ddf, {"id": "passthrough"}, scheduler=client)


def test_a_nan_that_the_spec_forbids_names_the_partition(client: Client) -> None:
    frame = training_frame(300)[["offset"]].fillna(0.0)
    frame.loc[120, "offset"] = np.nan
    ddf = dd.from_pandas(frame, npartitions=3)
    spec = {"offset": {"method": "standard", "nan": "error"}}
    with pytest.raises(nl.InputError, match=r"^partition 1: feature 'offset', row 21: NaN"):
        nld.fit(ddf, spec, scheduler=client)
    lock = nl.fit(frame.iloc[:100], spec)
    lazy = nld.transform(lock, ddf)
    with pytest.raises(nl.InputError, match=r"^partition 1: .*'offset'.*NaN"):
        lazy.compute(scheduler=client)


def test_a_named_target_is_locked_as_locally(client: Client) -> None:
    frame = training_frame(EXACT_ROWS)
    spec = {"id": "passthrough", "offset": "standard", "ramp": "minmax"}
    local = quiet(nl.fit, frame.drop(columns=["heavy", "ranked"]), spec, target="skewed")
    ddf = dd.from_pandas(frame.drop(columns=["heavy", "ranked"]), npartitions=4)
    lock = quiet(nld.fit, ddf, spec, target="skewed", scheduler=client)
    assert lock.target is not None and lock.fingerprint == local.fingerprint
