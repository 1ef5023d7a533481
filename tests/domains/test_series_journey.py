"""Series and window locks: save, load, seal, verify naming each mistake, monitor."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import torch

import normlock as nl
from normlock.domains import series
from tests.exact_reference import exact_mean_variance, sqrt_to_float, to_float

from .series_data import panel


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.DataFrame(panel(600, seed=11)).drop(columns=["temp"])


@pytest.fixture(scope="module")
def lock(frame) -> series.SeriesLock:
    return series.fit(frame, id="sensor", time="t")


def _serving(frame: pd.DataFrame, *, shift: int = 0, ddof: int = 0, unseen_from=None, pooled=False):
    """A pandas serving step: a merge on the id, as pipelines write it."""
    grouped = frame.groupby("sensor")["load"]
    table = pd.DataFrame({"mean": grouped.mean(), "std": grouped.std(ddof=ddof)})
    table.index = table.index + shift
    overall = (frame["load"].mean(), frame["load"].std(ddof=0))

    def serve(rows):
        x = pd.Series(rows["load"]).astype(np.float64)
        if pooled:
            return {"load": ((x - overall[0]) / overall[1]).to_numpy().astype(rows["load"].dtype)}
        found = table.reindex(rows["sensor"])
        fill = (
            table.iloc[0]
            if unseen_from == "first"
            else pd.Series({"mean": overall[0], "std": overall[1]})
        )
        mean = found["mean"].fillna(fill["mean"]).to_numpy()
        std = found["std"].fillna(fill["std"]).to_numpy()
        return {"load": ((x.to_numpy() - mean) / std).astype(rows["load"].dtype)}

    return serve


def _causes(report) -> set[str]:
    return {r.cause.kind for r in report.mismatches}


def test_a_merge_on_the_id_is_equivalent_and_each_mistake_is_named(frame, lock) -> None:
    good = lock.verify(_serving(frame))
    assert good.passed, good.summary()
    assert {r.run for r in good.results} == {"float64 probe rows", "float32 probe rows"}
    assert _causes(lock.verify(_serving(frame, pooled=True))) == {"global"}
    unseen = lock.verify(_serving(frame, unseen_from="first"))
    assert _causes(unseen) == {"unseen"}
    assert "an unseen series is normalized with series 1000's statistics" in unseen.summary()
    misjoined = lock.verify(_serving(frame, shift=7))
    assert (
        _causes(misjoined) == {"other_series"}
        and "the join on 'sensor' is off" in misjoined.summary()
    )
    assert _causes(lock.verify(_serving(frame, ddof=1))) == {"ddof"}
    assert lock.verify(_serving(frame), frame.iloc[:300], feed="pandas").passed


def test_save_load_seal_and_a_changed_byte_of_the_table(tmp_path, lock, frame) -> None:
    path = lock.save(tmp_path / "series.normlock.json")
    loaded = nl.load(path)
    assert isinstance(loaded, series.SeriesLock) and loaded.fingerprint == lock.fingerprint
    assert loaded.table == lock.table
    assert loaded.transform(frame)["load"].equals(lock.transform(frame)["load"])
    text = path.read_text()
    start = text.index('"base64": "', text.index('"mean"')) + len('"base64": "')
    flipped = "B" if text[start + 40] != "B" else "C"
    path.write_text(text[: start + 40] + flipped + text[start + 41 :])
    with pytest.raises(nl.LockIntegrityError, match="modified after it was written"):
        nl.load(path)


def test_a_hundred_thousand_series_lock_loads_fast(tmp_path) -> None:
    rng = np.random.default_rng(2)
    ids = np.repeat(np.arange(100_000, dtype=np.int64), 3)
    lock = series.fit({"id": ids, "x": rng.normal(size=len(ids))}, id="id")
    path = lock.save(tmp_path / "big.normlock.json")
    assert path.stat().st_size < 6_000_000
    start = time.perf_counter()
    loaded = nl.load(path)
    assert time.perf_counter() - start < 2.0  # a million series load in under a second (bench)
    assert len(loaded.table) == 100_000


def test_monitor_sees_served_values_in_other_units(frame, lock) -> None:
    healthy = lock.monitor()
    healthy.update(frame.iloc[:2000])
    assert healthy.profile.rows == 2000
    converted = lock.monitor()
    converted.update(frame.iloc[:2000].assign(load=frame["load"].iloc[:2000] / 1000))
    assert not converted.report().ok


def test_window_policy_is_exact_invertible_and_verified() -> None:
    windows = np.random.default_rng(4).normal(50, 8, (6, 24, 3)) * np.array([1e-3, 1.0, 1e4])
    lock = series.instance_norm(epsilon=1e-5)
    out = lock.transform(windows)
    mean, variance = exact_mean_variance(windows[2, :, 1])
    by_hand = (windows[2, :, 1] - to_float(mean)) / np.sqrt(sqrt_to_float(variance) ** 2 + 1e-5)
    assert np.abs(out[2, :, 1] - by_hand).max() <= 1e-14
    stats = lock.statistics(windows)
    forecast = out[:, -4:]
    assert np.allclose(lock.inverse_transform(forecast, stats), windows[:, -4:], rtol=1e-13)
    tensor = lock.transform(torch.from_numpy(windows.astype(np.float32)))
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float32
    loaded = nl.Lock.from_json(lock.to_json())
    assert isinstance(loaded, series.WindowLock) and loaded.epsilon == 1e-5

    def revin(x, axis=1, ddof=0, eps=1e-5):
        y = x.astype(np.float64)
        m, v = y.mean(axis=axis, keepdims=True), y.var(axis=axis, ddof=ddof, keepdims=True)
        with np.errstate(invalid="ignore"):  # epsilon 0 on the constant probe window
            return ((y - m) / np.sqrt(v + eps)).astype(x.dtype)

    assert lock.verify(revin).passed
    assert {r.cause.kind for r in lock.verify(lambda x: revin(x, axis=(0, 1))).mismatches} == {
        "batch"
    }
    assert {r.cause.kind for r in lock.verify(lambda x: revin(x, ddof=1)).mismatches} == {"ddof"}
    assert {r.cause.kind for r in lock.verify(lambda x: revin(x, eps=0.0)).mismatches} == {
        "epsilon"
    }
    assert {r.cause.kind for r in lock.verify(lambda x: revin(x, axis=2)).mismatches} == {"axis"}
    with pytest.raises(nl.InputError, match=r"statistics=lock\.statistics"):
        lock.inverse_transform(forecast)
