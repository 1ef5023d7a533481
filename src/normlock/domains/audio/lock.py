"""The audio lock: a spectrogram's bins normalized with statistics fitted on training
clips, or a waveform policy.

``mode="spectrogram"``: one feature per frequency bin (``bin000``, ``bin001``, ...),
each the chain ``log`` (``log(x + eps)``) or ``db`` (``10 log10(x + eps)``) then
``standard`` with the bin's mean and std over every frame of the training clips.
Spectrograms are arrays ``[..., bins, frames]`` (``frames_first=True``: ``[..., frames,
bins]``); each bin's chain runs along its row, in float64, rounded once (float32 stays
float32). The torch module and the ONNX graph emit the same chains.

``mode="peak"`` or ``"rms"``: a waveform policy, nothing fitted (see
:mod:`normlock.domains.audio.waveform`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np

from normlock.chain import output_dtype
from normlock.domains.arrays import as_array, finite_float64, is_tensor, like
from normlock.domains.audio import waveform
from normlock.domains.base import DomainLock
from normlock.errors import NO_ORIGIN, DomainError, InputError, NotInvertibleError, Origin

T = TypeVar("T")
MODES = ("spectrogram", *waveform.POLICIES)
SCALES = ("log", "db")


@dataclass(frozen=True)
class AudioLock(DomainLock):
    """A spectrogram lock or a waveform policy (see the module docs).

    Attributes:
        mode: ``spectrogram``, ``peak`` or ``rms``.
        scale: a spectrogram's ``log`` or ``db``; None for a waveform policy.
        frames_first: whether spectrograms are ``[..., frames, bins]``.
        level: the ``rms`` policy's target level in dBFS.
        epsilon: the ``rms`` policy's smallest RMS.
    """

    KIND: ClassVar[str] = "audio"
    mode: str = "spectrogram"
    scale: str | None = "log"
    frames_first: bool = False
    level: float | None = None
    epsilon: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"an audio lock's mode is one of {MODES}, got {self.mode!r}")
        if (self.mode == "spectrogram") != (self.scale in SCALES):
            raise InputError("a spectrogram lock has a scale (log or db), a waveform policy none")

    def section(self) -> dict[str, Any]:
        """The mode, scale and layout (spectrograms) or the policy's level (waveforms)."""
        return {
            "mode": self.mode,
            "scale": self.scale,
            "frames_first": self.frames_first,
            "level": self.level,
            "epsilon": self.epsilon,
        }

    @classmethod
    def fields_of_section(cls, section: Mapping[str, Any]) -> dict[str, Any]:
        """Inverse of :meth:`section`."""
        optional = {
            k: None if section[k] is None else float(section[k]) for k in ("level", "epsilon")
        }
        scale = section["scale"]
        return {
            "mode": str(section["mode"]),
            "scale": None if scale is None else str(scale),
            "frames_first": bool(section["frames_first"]),
            **optional,
        }

    def describe(self) -> dict[str, Any]:
        """The mode and its settings."""
        if self.mode == "spectrogram":
            layout = "[..., frames, bins]" if self.frames_first else "[..., bins, frames]"
            return {
                "mode": self.mode,
                "scale": self.scale,
                "bins": len(self.columns),
                "layout": layout,
            }
        found: dict[str, Any] = {"mode": self.mode}
        if self.mode == "rms":
            found.update(level_dbfs=self.level, epsilon=self.epsilon)
        return found

    def fitted_on(self) -> str:
        """``N clips (F frames)``, or a policy."""
        if self.mode != "spectrogram":
            return "a policy (nothing fitted)"
        return (
            f"{self.provenance.get('clips', 0):,} clips ({self.provenance.get('rows', 0):,} frames)"
        )

    @property
    def bin_axis(self) -> int:
        """The axis of the bins in a spectrogram."""
        return -1 if self.frames_first else -2

    def served_batches(self, paths: list[str]) -> Iterator[np.ndarray]:
        """Clips of ``.npy`` files (spectrograms or waveforms)."""
        from normlock.domains.audio.sources import clip_files

        yield from clip_files(paths)

    # ---- transform --------------------------------------------------------------------

    def transform(  # type: ignore[override]
        self,
        data: T,
        *,
        extra: Literal["error", "keep"] = "error",
        origin: Origin = NO_ORIGIN,
        **_: Any,
    ) -> T:
        """Normalize a spectrogram ``[..., bins, frames]`` (per bin) or waveforms (per
        clip, by the policy); numpy or torch in, the same out. A spectrogram lock also
        normalizes a frame or dict of bin columns, as any lock does."""
        if self.mode != "spectrogram":
            x = as_array(data)
            out = waveform.apply(
                finite_float64(x, "sample"), self.mode, self.level or 0.0, self.epsilon or 0.0
            )
            return like(data, out.astype(output_dtype(x.dtype)))
        if not (isinstance(data, np.ndarray) or is_tensor(data)) or data.ndim < 2:
            return super().transform(data, extra=extra, origin=origin)
        return like(data, self._bins(as_array(data), inverse=False))

    def inverse_transform(  # type: ignore[override]
        self, data: T, *, extra: Literal["error", "keep"] = "error", origin: Origin = NO_ORIGIN
    ) -> T:
        """Map normalized spectrograms back to power (spectrogram locks only)."""
        if self.mode != "spectrogram":
            raise NotInvertibleError(
                f"a {self.mode} waveform policy cannot be inverted: each clip's own level is "
                "not kept"
            )
        if not (isinstance(data, np.ndarray) or is_tensor(data)) or data.ndim < 2:
            return super().inverse_transform(data, extra=extra, origin=origin)
        return like(data, self._bins(as_array(data), inverse=True))

    def _bins(self, x: np.ndarray, *, inverse: bool) -> np.ndarray:
        bins = len(self.columns)
        if x.shape[self.bin_axis] != bins:
            frames_axis = -2 if self.frames_first else -1
            hint = ""
            if x.shape[frames_axis] == bins:
                hint = "; it looks transposed (frames and bins swapped)"
            raise InputError(
                f"the spectrogram has shape {x.shape} but the lock has {bins} bins on axis "
                f"{self.bin_axis}{hint}"
            )
        moved = np.moveaxis(x, self.bin_axis, 0)
        out = np.empty(moved.shape, output_dtype(x.dtype))
        for b, feature in enumerate(self.features):
            try:
                out[b] = feature.apply(moved[b].reshape(-1), inverse=inverse).reshape(
                    moved.shape[1:]
                )
            except DomainError as exc:
                raise DomainError(f"bin {b} ({feature.name}): {exc}") from None
        return np.moveaxis(out, 0, self.bin_axis)

    # ---- exports, verification, monitoring --------------------------------------------

    def to_torch(self, **options: Any) -> Any:
        """A spectrogram lock as a ``torch.nn.Module`` on ``[..., bins, frames]`` tensors,
        with the same bits as :meth:`transform` for the affine steps (its logarithm within
        the stated ulps, ``docs/exports.md``)."""
        self._spectrogram_only("exported")
        return super().to_torch(feature_dim=options.pop("feature_dim", self.bin_axis), **options)

    def to_onnx(self, **options: Any) -> Any:
        """A spectrogram lock as an ONNX graph of rank-3 ``[batch, bins, frames]`` inputs."""
        self._spectrogram_only("exported")
        options.setdefault("rank", 3)
        options.setdefault("feature_axis", self.bin_axis)
        return super().to_onnx(**options)

    def _spectrogram_only(self, what: str) -> None:
        if self.mode != "spectrogram":
            raise InputError(f"a waveform policy is not {what}; it has no per-bin chains")

    def verify(self, target: Any, data: Any = None, **options: Any) -> Any:
        """Check a serving step against the lock on probe clips, naming audio mistakes
        (per-clip where the lock is per-bin, no log, another log, another epsilon, frames
        and bins swapped; peak where RMS, ...): :mod:`normlock.domains.audio.parity`."""
        from normlock.domains.audio.parity import verify_audio

        return verify_audio(self, target, data, **options)

    def monitor(self, stage: Literal["raw", "normalized"] = "raw", **options: Any) -> Any:
        """A monitor of served spectrograms, per bin (see :mod:`normlock.domains.monitoring`)."""
        from normlock.domains.monitoring import DomainMonitor

        self._spectrogram_only("monitored")
        return DomainMonitor(self, stage, _bin_columns, **options)


def _bin_columns(lock: AudioLock, batch: Any) -> dict[str, np.ndarray]:
    x = np.moveaxis(as_array(batch), lock.bin_axis, 0)
    return {name: x[b].reshape(-1) for b, name in enumerate(lock.columns)}
