"""Verifying an audio pipeline against an audio lock, with probe clips.

Spectrogram locks: three probe clips ``[bins, frames]`` (two frames more than bins, so
that a pipeline taking ``[frames, bins]`` fails on them and is then tried on that
layout) whose bins hold their probe powers in windows that differ from clip to clip,
in float64 and float32. Mismatches are explained by the audio mistakes:

* ``per_clip``: each clip standardized per bin by its own statistics (over its frames)
  where the lock uses the training clips' per-bin statistics; ``per_clip_global``: each
  clip by one mean and std over all its bins and frames;
* ``no_log``: standardized without the logarithm; ``other_log``: the natural log where
  the lock has dB, or the reverse; ``eps``: another epsilon inside the logarithm;
* ``layout``: a pipeline that takes ``[..., frames, bins]``;

else by the per-bin diagnosis of :mod:`normlock.verify.diagnose`. Waveform policies:
probe clips of sines at levels from -40 to -1 dBFS and a silent one, with ``peak``
where the lock has ``rms`` (or the reverse), one peak over the whole batch, and another
target level (estimated, in dB) as the mistakes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from normlock.chain import FeatureLock, Step
from normlock.domains.audio import waveform
from normlock.domains.audio.lock import AudioLock
from normlock.domains.instance import standardize
from normlock.domains.parity import ProbeRun, domain_parity, run_target
from normlock.domains.targets import ArrayTarget
from normlock.probes import probes_of
from normlock.verify.cause import Cause
from normlock.verify.compare import candidate_residual
from normlock.verify.diagnose import EXPLAINED
from normlock.verify.parity import ParityReport, tolerance_of
from normlock.verify.rounding import ROUNDING_ULPS, rounding_bound

_EPS64 = float(np.finfo(np.float64).eps)


def verify_audio(
    lock: AudioLock, target: Any, data: Any = None, *, exact: bool = False, ulps: int | None = None
) -> ParityReport:
    """Check ``target`` (fed spectrograms or waveforms as the lock takes them) against
    ``lock`` on probe clips and optional ``data`` (one array)."""
    batches = _spectrograms(lock) if lock.mode == "spectrogram" else _waveforms()
    runs = [_run(lock, f"{b.dtype} probe clips", b) for b in batches]
    if data is not None:
        runs.append(_run(lock, "data", np.asarray(data)))
    if lock.mode == "spectrogram":
        split = _bins_of(lock)
        explain_run = _explain_spectrogram
    else:
        split, explain_run = (lambda a: [a.reshape(-1)]), _explain_waveform
    return domain_parity(
        lock,
        target,
        runs,
        split,
        lambda run, got: explain_run(lock, run, got),
        tolerance_of(exact, ulps),
        (lambda t, run, exc: _transposed(lock, t, run)) if lock.mode == "spectrogram" else None,
    )


def _bins_of(lock: AudioLock) -> Any:
    return lambda array: [
        np.take(array, b, axis=lock.bin_axis).reshape(-1) for b in range(len(lock.columns))
    ]


def _spectrograms(lock: AudioLock) -> list[np.ndarray]:
    bins = len(lock.columns)
    frames = bins + 2
    clips = np.empty((3, bins, frames))
    for b, feature in enumerate(lock.features):
        values = np.array([v for v in probes_of(feature)["input"] if np.isfinite(v) and v > 0])
        values = np.unique(values) if values.size else np.array([1.0])
        for k in range(3):
            clips[k, b] = values[(k * bins + np.arange(frames)) % len(values)]
    if lock.frames_first:
        clips = np.ascontiguousarray(np.swapaxes(clips, -1, -2))
    return [clips, clips.astype(np.float32)]


def _waveforms() -> list[np.ndarray]:
    t = np.arange(400) / 400
    levels = 10.0 ** (np.array([-40.0, -20.0, -6.0, -1.0]) / 20)
    clips = levels[:, None] * np.sin(2 * np.pi * np.array([3.0, 5.0, 7.0, 11.0])[:, None] * t)
    batch = np.concatenate([clips, np.zeros((1, len(t)))])[:, None, :]
    return [batch, batch.astype(np.float32)]


def _run(lock: AudioLock, label: str, clips: np.ndarray) -> ProbeRun:
    expected = lock.transform(clips)
    if lock.mode == "spectrogram":
        split = _bins_of(lock)
        bounds = [
            rounding_bound(f, x, expected.dtype)
            for f, x in zip(lock.features, split(clips), strict=True)
        ]
    else:
        z = np.abs(expected.astype(np.float64)).reshape(-1)
        bounds = [
            ROUNDING_ULPS * _EPS64 * (2 * z + 1)
            + (np.spacing(z.astype(np.float32)) if expected.dtype == np.float32 else 0.0)
        ]
    return ProbeRun(label, clips, expected, bounds)


def _fit(run: ProbeRun, got: np.ndarray, candidate: np.ndarray) -> bool:
    eps = float(np.finfo(run.expected.dtype).eps)
    wide = got.astype(np.float64)
    return candidate_residual(wide, candidate, np.ones(wide.shape)) <= EXPLAINED * eps


def _chain(
    lock: AudioLock, clips: np.ndarray, steps: Callable[[FeatureLock], tuple[Step, ...]]
) -> np.ndarray:
    """Each bin's ``steps(feature)`` run along its row, in float64."""
    x = np.moveaxis(clips.astype(np.float64), lock.bin_axis, 0)
    out = np.empty_like(x)
    for b, feature in enumerate(lock.features):
        chain = FeatureLock(feature.name, steps(feature), "keep", "keep")
        with np.errstate(all="ignore"):
            out[b] = chain.apply(x[b].reshape(-1)).reshape(x.shape[1:])
    return np.moveaxis(out, 0, lock.bin_axis)


def _explain_spectrogram(lock: AudioLock, run: ProbeRun, got: np.ndarray) -> Cause | None:
    first = lock.features[0].steps[0]
    key = "offset" if first.method == "log" else "eps"
    logged = _chain(lock, run.inputs, lambda f: f.steps[:1])
    frames = -2 if lock.frames_first else -1
    per_bin = "the training clips' per-bin statistics"
    candidates = [
        (
            "per_clip",
            f"each clip standardized per bin by its own statistics over its frames, where the "
            f"lock uses {per_bin}",
            standardize(logged, (frames,), 0.0),
        ),
        (
            "per_clip_global",
            f"each clip standardized by one mean and std over all its bins and frames, where "
            f"the lock uses {per_bin}",
            standardize(logged, (-1, -2), 0.0),
        ),
        (
            "no_log",
            f"standardized without the logarithm ({first.method}) the lock takes first",
            _chain(lock, run.inputs, lambda f: f.steps[1:]),
        ),
    ]
    if first.method == "log":
        other, named = Step("db", {"eps": first.params[key]}), ("dB", "the natural log")
    else:
        other, named = Step("log", {"offset": first.params[key]}), ("the natural log", "dB")
    swapped = _chain(lock, run.inputs, lambda f: (other, *f.steps[1:]))
    candidates.append(("other_log", f"{named[0]} where the lock takes {named[1]}", swapped))
    for eps in (0.0, 1e-10, 1e-8, 1e-6, 1e-5):
        if eps != first.params[key]:
            changed = Step(first.method, {**first.params, key: eps})
            message = (
                f"epsilon {eps:g} inside the logarithm where the lock adds {first.params[key]:g}"
            )
            candidates.append(
                ("eps", message, _chain(lock, run.inputs, lambda f, c=changed: (c, *f.steps[1:])))
            )
    for kind, message, candidate in candidates:
        if _fit(run, got, candidate):
            return Cause(kind, message)
    return None


def _transposed(
    lock: AudioLock, target: ArrayTarget, run: ProbeRun
) -> tuple[np.ndarray, Cause] | None:
    """A target that fails on the lock's layout but runs on the transposed one."""
    swapped = ProbeRun(
        run.label,
        np.ascontiguousarray(np.swapaxes(run.inputs, -1, -2)),
        np.swapaxes(run.expected, -1, -2),
        run.bounds,
    )
    try:
        got = run_target(target, swapped)
    except Exception:
        return None
    layout = "[..., bins, frames]" if lock.frames_first else "[..., frames, bins]"
    return np.ascontiguousarray(np.swapaxes(got, -1, -2)), Cause(
        "layout",
        f"the target takes spectrograms {layout}, frames and bins swapped from the lock's layout",
    )


def _explain_waveform(lock: AudioLock, run: ProbeRun, got: np.ndarray) -> Cause:
    x = np.asarray(run.inputs, dtype=np.float64)
    wide = got.astype(np.float64)
    other = "rms" if lock.mode == "peak" else "peak"
    level = lock.level if lock.level is not None else -20.0
    candidates = [
        (
            other,
            f"each clip scaled by its {other} where the lock scales it by its {lock.mode}",
            waveform.apply(x, other, level, lock.epsilon or 1e-8),
        ),
        (
            "batch_peak",
            "one peak over the whole batch where the lock scales each clip by its own",
            x / np.abs(x).max(),
        ),
    ]
    for kind, message, candidate in candidates:
        if _fit(run, wide, candidate):
            return Cause(kind, message)
    expected = run.expected.astype(np.float64)
    loud = np.abs(expected) > 1e-3
    if lock.mode == "rms" and loud.any():
        ratio = wide[loud] / expected[loud]
        if np.ptp(ratio) <= 1e-6 * np.abs(ratio).max():
            change = 20 * np.log10(float(np.median(ratio)))
            return Cause(
                "level",
                f"clips scaled to {level + change:.2f} dBFS where the lock's target is "
                f"{level:g} dBFS",
                {"difference_db": change},
            )
    return Cause("unexplained", "the outputs differ in a way no waveform mistake explains")
