"""Audio locks: per-bin spectrogram statistics over clips of any length, waveform policies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.signal import spectrogram

import normlock as nl
from normlock.domains import audio
from normlock.export.tolerance import allowed_difference
from tests.exact_reference import exact_mean_variance, sqrt_to_float, to_float
from tests.export.parity import normalize_onnx


def _clips(seed: int = 0, lengths=(4000, 2500, 9100, 1300)) -> list[np.ndarray]:
    """Power spectrograms of chirps in noise, of different lengths."""
    rng = np.random.default_rng(seed)
    found = []
    for n in lengths:
        t = np.arange(n) / 8000
        signal = np.sin(2 * np.pi * (200 + 900 * t) * t) + 0.3 * rng.normal(size=n)
        found.append(spectrogram(signal, fs=8000, nperseg=64, noverlap=32)[2])
    return found


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    return _clips()


@pytest.fixture(scope="module")
def lock(clips) -> audio.AudioLock:
    return audio.fit(clips, scale="db", eps=1e-12)


def test_per_bin_statistics_are_exact_over_every_frame_of_every_clip(clips, lock) -> None:
    assert lock.columns[:2] == ("bin000", "bin001") and len(lock.columns) == 33
    assert (
        lock.provenance["rows"] == sum(c.shape[1] for c in clips) and lock.provenance["clips"] == 4
    )
    step = lock.features[0].steps[0]
    for b in (0, 7, 32):
        frames = np.concatenate([c[b] for c in clips])
        decibels = get_db(step.params["eps"])(frames)
        mean, variance = exact_mean_variance(decibels)
        params = lock.features[b].steps[1].params
        assert (params["mean"], params["std"]) == (to_float(mean), sqrt_to_float(variance))
    shuffled = audio.fit([clips[2], clips[0], clips[3], clips[1]], scale="db", eps=1e-12)
    batched = audio.fit(
        [np.stack([c[:, :20] for c in clips]), *[c[:, 20:] for c in clips]], scale="db", eps=1e-12
    )
    assert shuffled.fingerprint == lock.fingerprint == batched.fingerprint


def get_db(eps: float):
    from normlock.chain import FeatureLock, Step

    return FeatureLock("db", (Step("db", {"eps": eps}),)).apply


def test_transform_inverse_exports_and_layouts(clips, lock) -> None:
    batch = np.stack([c[:, :40] for c in clips[:3]])
    out = lock.transform(batch)
    assert out.shape == batch.shape and out.dtype == np.float64
    feature = lock.features[5]
    assert np.array_equal(out[1, 5], feature.apply(batch[1, 5]))
    assert np.allclose(lock.inverse_transform(out), batch, rtol=1e-12)
    module_out = lock.to_torch()(torch.from_numpy(batch)).numpy()
    onnx_out = normalize_onnx(lock.to_onnx(dtype="float64"), {"input": batch})
    for b in range(len(lock.columns)):
        allowed = allowed_difference(lock.features[b], batch[:, b].reshape(-1), "torch")
        assert np.all(np.abs(module_out[:, b] - out[:, b]).reshape(-1) <= allowed)
        allowed = allowed_difference(lock.features[b], batch[:, b].reshape(-1), "onnx")
        assert np.all(np.abs(onnx_out[:, b] - out[:, b]).reshape(-1) <= allowed)
    frames_first = audio.fit([c.T for c in clips], scale="db", eps=1e-12, frames_first=True)
    assert np.array_equal(frames_first.transform(batch.swapaxes(1, 2)), out.swapaxes(1, 2))
    with pytest.raises(nl.InputError, match="looks transposed"):
        lock.transform(batch.swapaxes(1, 2))
    with pytest.raises(nl.DomainError, match=r"clip 1, bin \d+, frame \d+: -1.0 is not a power"):
        audio.fit([clips[0], -np.ones((33, 5))])


def test_each_spectrogram_mistake_is_named(clips, lock) -> None:
    mean = np.array([f.steps[1].params["mean"] for f in lock.features])[:, None]
    std = np.array([f.steps[1].params["std"] for f in lock.features])[:, None]

    def serve(x, log=lambda v: 10 * np.log10(v + 1e-12), per_clip=False, swap=False):
        y = log(x.astype(np.float64))
        if swap:
            return ((y - mean.T) / std.T).astype(x.dtype)
        if per_clip:
            return ((y - y.mean(-1, keepdims=True)) / y.std(-1, keepdims=True)).astype(x.dtype)
        return ((y - mean) / std).astype(x.dtype)

    assert lock.verify(serve).passed
    causes = {
        "per_clip": lambda x: serve(x, per_clip=True),
        "no_log": lambda x: serve(x, log=lambda v: v),
        "other_log": lambda x: serve(x, log=lambda v: np.log(v + 1e-12)),
        "eps": lambda x: serve(x, log=lambda v: 10 * np.log10(v + 1e-6)),
        "layout": lambda x: serve(x, swap=True),
    }
    for kind, target in causes.items():
        report = lock.verify(target)
        assert {r.cause.kind for r in report.mismatches} == {kind}, (kind, report.summary())


def test_monitor_per_bin_sees_a_louder_input(clips, lock) -> None:
    same = lock.monitor()
    same.update(np.stack([c[:, :30] for c in _clips(1)]))
    louder = lock.monitor()
    louder.update(np.stack([c[:, :30] * 100.0 for c in _clips(1)]))  # +20 dB
    assert louder.profile.rows == 4 * 30
    assert not louder.report().ok
    assert len(louder.report().findings) >= 1 and same.profile.rows == 120


def test_waveform_policies_exact_and_verified() -> None:
    rng = np.random.default_rng(3)
    clips = rng.normal(0, 0.1, (3, 2, 500))
    peak = audio.waveform_policy("peak").transform(clips)
    assert np.all(np.abs(peak).max(axis=-1) == 1.0)
    rms = audio.waveform_policy("rms", level=-20.0)
    out = rms.transform(clips.astype(np.float32))
    assert out.dtype == np.float32
    squares = exact_mean_variance(np.concatenate([clips[1, 0], -clips[1, 0]]))[
        1
    ]  # mean 0: var = mean square
    gain = 0.1 / sqrt_to_float(squares)
    assert np.array_equal(rms.transform(clips)[1, 0], clips[1, 0] * gain)
    loaded = nl.Lock.from_json(rms.to_json())
    assert isinstance(loaded, audio.AudioLock) and loaded.level == -20.0

    def peak_serving(x):
        top = np.abs(x).max(-1, keepdims=True)
        return np.where(top > 0, x / np.where(top > 0, top, 1.0), 0.0).astype(x.dtype)

    assert audio.waveform_policy("peak").verify(peak_serving).passed
    assert {r.cause.kind for r in rms.verify(peak_serving).mismatches} == {"peak"}
    with pytest.raises(nl.NotInvertibleError):
        rms.inverse_transform(out)
