"""The preprocessing a pretrained model declares, against the lock in front of it.

Declarations read: a Hugging Face ``preprocessor_config.json`` (path or dict:
``do_rescale``, ``rescale_factor``, ``do_normalize``, ``image_mean``, ``image_std``), a
timm ``pretrained_cfg`` (dict or object with ``mean``/``std``; timm takes images in
``[0, 1]``), torchvision-style transforms (a ``Normalize``, a ``Compose`` of
``ToTensor``/``ConvertImageDtype``/``ToDtype(scale=True)`` and ``Normalize``, or a
weights preset such as ``ImageClassification``, which rescales 8-bit images), or
another lock. Each becomes per channel ``(x / rescale - mean) / std``.

Both sides are compared as the affine maps they are, so that a difference is named for
what it is: the same constants in the other channel order (RGB vs BGR), the same
constants for pixels in 0-255 vs in [0, 1], or other constants. A declaration that
states the pixels it takes (a Hugging Face config, transforms with a rescale step) is
compared on raw pixels; one that only states mean and std for images in ``[0, 1]``
(timm, a bare ``Normalize``) is compared with the lock's constants after the lock's own
rescale, if any.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from normlock.audit.findings import Finding, Thresholds
from normlock.audit.lock_side import effective_affine, numbers, rescale_of
from normlock.errors import InputError
from normlock.export.imported import floats
from normlock.lock import Lock

_RESCALES = ("ToTensor", "ConvertImageDtype", "ImageClassification", "ObjectDetection")


@dataclass(frozen=True)
class Expected:
    """A declared per-channel preprocessing.

    Attributes:
        source: where it was declared.
        mean: per channel, of images in ``[0, 1]``.
        std: per channel.
        rescale: the pixel value that maps to 1 (255 for 8-bit images), or None when
            the model takes values in ``[0, 1]``.
        raw_units: whether the declaration states the pixels it takes (with ``rescale``);
            else it describes images already in ``[0, 1]``, however they got there.
        fix: how to build the matching lock.
    """

    source: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    rescale: float | None
    raw_units: bool
    fix: str

    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        """Per channel ``(center, scale)`` on raw pixels."""
        factor = self.rescale or 1.0
        return np.array(self.mean) * factor, np.array(self.std) * factor

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "source": self.source,
            "mean": list(self.mean),
            "std": list(self.std),
            "rescale": self.rescale,
            "raw_units": self.raw_units,
        }


def expected_of(declared: Any) -> Expected | None:
    """The :class:`Expected` of a declaration (see the module docs); None when it
    declares no mean and std."""
    if isinstance(declared, str | Path):
        path = Path(declared)
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read {str(declared)!r} as a JSON config: {exc}") from None
        return _from_mapping(config, path.name)
    if isinstance(declared, Lock):
        return _from_lock(declared)
    if isinstance(declared, Mapping):
        return _from_mapping(declared, "config")
    transforms = getattr(declared, "transforms", None)
    if isinstance(transforms, list | tuple):
        return _from_transforms(list(transforms))
    return _from_transforms([declared])


def _from_mapping(config: Mapping[str, Any], name: str) -> Expected | None:
    if "image_mean" in config or "do_normalize" in config or "rescale_factor" in config:
        if not config.get("do_normalize", True) or config.get("image_mean") is None:
            return None
        rescale = None
        if config.get("do_rescale", True):
            rescale = 1.0 / float(config.get("rescale_factor", 1 / 255))
        source = f"Hugging Face {name if name != 'config' else 'preprocessor config'}"
        fix = "normlock.export.images.from_hf_preprocessor(config)"
        return _expected(source, config["image_mean"], config.get("image_std"), rescale, fix)
    if config.get("mean") is None:
        return None
    fix = "normlock.export.images.from_timm(pretrained_cfg, max_value=255)"
    return _expected("timm pretrained_cfg", config["mean"], config.get("std"), None, fix, False)


def _from_transforms(transforms: list[Any]) -> Expected | None:
    rescale = None
    for transform in transforms:
        name = type(transform).__name__
        if name in _RESCALES or (name == "ToDtype" and getattr(transform, "scale", False)):
            rescale = 255.0
        mean, std = getattr(transform, "mean", None), getattr(transform, "std", None)
        if mean is not None and std is not None:
            fix = "normlock.export.images.from_normalize(normalize, max_value=255)"
            source = f"torchvision-style {name}"
            return _expected(source, mean, std, rescale, fix, rescale is not None)
    return None


def _from_lock(lock: Lock) -> Expected | None:
    affine = [effective_affine(f) for f in lock.features]
    if any(a is None for a in affine):
        return None
    centers, scales = zip(*affine, strict=True)  # type: ignore[misc]
    return Expected(f"lock {lock.fingerprint[:16]}", centers, scales, None, True, "use that lock")


def _expected(
    source: str, mean: Any, std: Any, rescale: float | None, fix: str, raw_units: bool = True
) -> Expected:
    if std is None:
        raise InputError(f"{source} declares a mean but no std")
    means = floats(_sequence(mean, 3), f"{source} mean")
    stds = floats(_sequence(std, len(means)), f"{source} std", len(means))
    return Expected(source, tuple(means), tuple(stds), rescale, raw_units, fix)


def _sequence(value: Any, width: int) -> Any:
    """A per-channel sequence; one number stands for every channel."""
    return value if isinstance(value, list | tuple) or hasattr(value, "tolist") else [value] * width


def expectation_findings(
    expected: Expected, lock: Lock, thresholds: Thresholds, notes: list[str]
) -> list[Finding]:
    """What differs between the declared preprocessing and ``lock``."""
    affine = [effective_affine(f) for f in lock.features]
    if len(affine) != len(expected.mean) or any(a is None for a in affine):
        notes.append(
            f"{expected.source} declares {len(expected.mean)} channel(s); the lock has "
            f"{len(affine)} feature(s) that are not all affine: they were not compared"
        )
        return []
    center = np.array([a[0] for a in affine])  # type: ignore[index]
    scale = np.array([a[1] for a in affine])  # type: ignore[index]
    if expected.raw_units:
        want_center, want_scale = expected.affine()
        ours = f"center {numbers(center)}, scale {numbers(scale)} on raw inputs"
    else:  # compare after the lock's own rescale, which the declaration says nothing of
        factor = np.array([rescale_of(f) for f in lock.features])
        center, scale = center / factor, scale / factor
        want_center, want_scale = np.array(expected.mean), np.array(expected.std)
        ours = f"mean {numbers(center)}, std {numbers(scale)} after its rescale"

    def same(c: np.ndarray, s: np.ndarray) -> bool:
        rtol = thresholds.constants
        return bool(
            np.allclose(c, want_center, rtol=rtol) and np.allclose(s, want_scale, rtol=rtol)
        )

    if same(center, scale):
        return []
    ratio = float(want_scale[0] / scale[0])
    if same(center[::-1], scale[::-1]):
        cause = "channel_order"
        what = "the same constants in the reverse channel order (RGB vs BGR)"
    elif ratio != 1.0 and same(center * ratio, scale * ratio):
        cause = "rescale"
        what = f"the same constants for inputs {ratio:.6g} times larger: " + (
            "the model's preprocessing takes 0-255 pixels and rescales them, the lock takes "
            "values in [0, 1]"
            if ratio > 1
            else "the lock takes 0-255 pixels, the model's preprocessing values in [0, 1]"
        )
    else:
        cause, what = "constants", "other constants"
    declared = _describe(expected.mean, expected.std, expected.rescale)
    return [
        Finding(
            "preprocessing_mismatch",
            "model input",
            f"the model declares its preprocessing ({expected.source}: {declared}); the lock "
            f"in front of it applies {ours}: {what}.",
            f"build the lock from the model's declaration: {expected.fix}",
            {
                "cause": cause,
                "declared": expected.to_dict(),
                "lock_center": center,
                "lock_scale": scale,
            },
        )
    ]


def _describe(mean: tuple[float, ...], std: tuple[float, ...], rescale: float | None) -> str:
    scaled = f"rescale 1/{rescale:g}, " if rescale else "images in [0, 1], "
    return f"{scaled}mean {numbers(mean)}, std {numbers(std)}"
