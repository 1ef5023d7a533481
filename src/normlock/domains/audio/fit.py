"""``audio.fit``: per-bin statistics of training spectrograms; ``audio.waveform_policy``.

Every frame of every training clip counts once, whatever the clips' lengths: each bin's
mean and std are the correctly rounded mean and population std of ``log(x + eps)``
(or ``10 log10(x + eps)``) over all of them, streamed clip by clip through the exact
moments pass (:mod:`normlock.domains.channels`), so any order and batching of the same
clips give the same lock. The reference of each bin (monitoring, probes) summarizes its
raw power values.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from normlock.chain import FeatureLock, Step
from normlock.domains.audio.lock import SCALES, AudioLock
from normlock.domains.audio.sources import clips
from normlock.domains.audio.waveform import POLICIES
from normlock.domains.base import source_name, stamp
from normlock.domains.channels import ChannelStats
from normlock.errors import DomainError, InputError, NormlockWarning
from normlock.methods import get_method
from normlock.reference import reference_of
from normlock.stats import DEFAULT_EXACT_LIMIT


def bin_names(bins: int) -> list[str]:
    """``bin000``, ``bin001``, ... (zero-padded to the width of the last)."""
    width = max(3, len(str(bins - 1)))
    return [f"bin{b:0{width}d}" for b in range(bins)]


def _first_step(scale: str, eps: float) -> Step:
    if scale == "log":
        return Step("log", {"offset": float(eps)})
    return Step("db", {"eps": float(eps)})


def fit(
    source: Any,
    *,
    scale: str = "log",
    eps: float = 1e-10,
    frames_first: bool = False,
    names: Sequence[str] | None = None,
    sources: list[str] | None = None,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
) -> AudioLock:
    """Fit per-bin normalization on training spectrograms (power, ``>= 0``).

    Args:
        source: a spectrogram ``[..., bins, frames]``, a list or iterable of them (any
            number of frames each), or ``.npy`` files.
        scale: ``log`` (``log(x + eps)``) or ``db`` (``10 log10(x + eps)``).
        eps: added before the logarithm.
        frames_first: the spectrograms are ``[..., frames, bins]``.
        names: the bins' names (default ``bin000, bin001, ...``).
        sources: names of the data, for the provenance.
        exact_limit: recorded with the reference quantiles.

    Example:
        >>> import numpy as np
        >>> from normlock.domains import audio
        >>> clips = [np.full((2, 5), 1.0), np.full((2, 3), np.e ** 2)]   # 5 and 3 frames
        >>> lock = audio.fit(clips, eps=0.0)
        >>> [round(f.steps[1].params["mean"], 12) for f in lock.features]
        [0.75, 0.75]
    """
    if scale not in SCALES:
        raise InputError(f"scale must be 'log' or 'db', got {scale!r}")
    if not (isinstance(eps, int | float) and 0 <= eps < np.inf):
        raise InputError(f"eps must be a finite number >= 0, got {eps!r}")
    first = _first_step(scale, eps)
    prefix = FeatureLock("prefix", (first,), nan="keep", inf="keep").apply
    stats: ChannelStats | None = None
    count = 0
    axis = -1 if frames_first else -2
    for clip, origin in clips(source):
        if clip.ndim < 2 or clip.dtype.kind != "f":
            raise InputError(
                f"{origin}: a spectrogram is a float array [..., bins, frames], got "
                f"{clip.dtype} {clip.shape}"
            )
        bins = clip.shape[axis]
        if stats is None:
            stats = ChannelStats(bins, prefix, exact_limit)
        elif bins != stats.channels:
            raise InputError(f"{origin} has {bins} bins, the clips before it {stats.channels}")
        _check(clip, origin, eps, axis)
        rows = np.moveaxis(clip, axis, -1).reshape(-1, bins)
        stats.update(list(rows.T))
        count += int(np.prod(clip.shape[:-2], dtype=np.int64))
    if stats is None or stats.rows == 0:
        raise InputError("no spectrogram frames to fit on")
    labels = list(names) if names is not None else bin_names(stats.channels)
    if len(labels) != stats.channels:
        raise InputError(f"names has {len(labels)} entries for {stats.channels} bins")
    standard = get_method("standard")
    features, found = [], []
    for name, raw, staged in zip(labels, stats.summaries(), stats.staged_summaries(), strict=True):
        fitted = standard.fit(standard.configure({}), staged)
        features.append(
            FeatureLock(
                name,
                (first, Step("standard", fitted.params)),
                "error",
                "error",
                reference_of(raw),
                fitted.warnings,
            )
        )
        found += [f"bin {name!r}: {w}" for w in fitted.warnings]
    for message in found:
        warnings.warn(message, NormlockWarning, stacklevel=2)
    return AudioLock(
        features=tuple(features),
        columns=tuple(labels),
        spec={"domain": "audio", "mode": "spectrogram", "scale": scale, "eps": float(eps)},
        provenance={
            "sources": list(sources or [source_name(source)]),
            "rows": stats.rows,
            "clips": count,
            "exact_limit": exact_limit,
        },
        **stamp(),
        mode="spectrogram",
        scale=scale,
        frames_first=frames_first,
    )


def _check(clip: np.ndarray, origin: str, eps: float, axis: int) -> None:
    """Raise naming the first value that is not finite or whose logarithm is undefined."""
    bad = ~np.isfinite(clip) | (clip + eps <= 0)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        bin_index, frame = index[axis], index[-1 if axis == -2 else -2]
        raise DomainError(
            f"{origin}, bin {bin_index}, frame {frame}: {float(clip[index])!r} is not a power "
            f"(finite, x + eps > 0 with eps={eps}); pass |STFT|**2, not the complex STFT or dB"
        )


def waveform_policy(
    policy: str = "peak", *, level: float = -20.0, epsilon: float = 1e-8
) -> AudioLock:
    """A waveform normalization policy as a lock: ``peak`` (each clip to ``[-1, 1]`` by
    its peak) or ``rms`` (each clip to ``level`` dBFS RMS, see
    :mod:`normlock.domains.audio.waveform`).

    Example:
        >>> import numpy as np
        >>> from normlock.domains import audio
        >>> audio.waveform_policy("peak").transform(np.array([0.5, -0.25, 0.1]))
        array([ 1. , -0.5,  0.2])
    """
    if policy not in POLICIES:
        raise InputError(f"policy must be 'peak' or 'rms', got {policy!r}")
    rms = policy == "rms"
    return AudioLock(
        features=(),
        columns=(),
        spec={"domain": "audio", "mode": policy},
        provenance={"sources": ["declared policy"], "rows": 0},
        **stamp(),
        mode=policy,
        scale=None,
        level=float(level) if rms else None,
        epsilon=float(epsilon) if rms else None,
    )
