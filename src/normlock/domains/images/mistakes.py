"""The image mistakes ``verify`` names, each as the outputs it would give on the probes.

:func:`explain` compares a mismatching pipeline's outputs with each mistake's (computed
with the lock's own chains) and names the one that fits to rounding level (within
:data:`~normlock.verify.diagnose.EXPLAINED` epsilons of the output dtype):

* ``per_image``: each image standardized by its own mean and std (epsilon 0, 1e-5,
  1e-6 or 1e-8) where the lock pools the training split's statistics; ``pooled``: the
  reverse, fixed per-channel statistics where the lock standardizes each image;
* ``rescale_missing``: pixels in 0-255 reaching a step that expects 0-1;
  ``rescaled_twice``: the rescale applied to values already in 0-1; ``rescaled``: a
  division by 255 where the lock takes the pixels as they are;
* ``channel_order``: the channels' statistics in reverse order (BGR for RGB).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from normlock.chain import FeatureLock
from normlock.domains.images.layout import channel_axis
from normlock.domains.images.lock import ImageLock
from normlock.domains.images.per_image import standardize
from normlock.domains.parity import ProbeRun
from normlock.verify.cause import Cause
from normlock.verify.compare import candidate_residual
from normlock.verify.diagnose import EXPLAINED

PER_IMAGE_EPSILONS = (0.0, 1e-5, 1e-6, 1e-8)
"""The epsilons a per-image standardization is tried with."""


def cause(kind: str, message: str, **details: Any) -> Cause:
    """A :class:`~normlock.verify.cause.Cause` of an image mistake."""
    return Cause(kind, message, details)


def candidates(lock: ImageLock, images: np.ndarray) -> list[tuple[Cause, np.ndarray]]:
    """What each image mistake makes of ``images`` (float64 outputs)."""
    axis = channel_axis(lock.layout)
    found = []
    if lock.mode == "pooled":
        rescaled = images.astype(np.float64)
        if lock.max_value is not None:  # (x - 0) / max, the rescale's bits
            rescaled = rescaled / lock.max_value
        message = (
            "standardized per image (each image by its own mean and std) where the lock "
            "uses the pooled per-channel statistics of the training split"
        )
        for epsilon in PER_IMAGE_EPSILONS:
            standardized = standardize(rescaled, lock.layout, epsilon)
            found.append((cause("per_image", message, epsilon=epsilon), standardized))
    if lock.max_value is not None:
        top = f"{lock.max_value:g}"
        missing = (
            f"pixels in 0-{top} reach a step that expects 0-1: its rescale (/{top}) is missing"
        )
        twice = f"pixels rescaled twice (/{top} applied to values already in 0-1)"
        found.append((cause("rescale_missing", missing), chain(lock, images, axis, rescale=False)))
        found.append((cause("rescaled_twice", twice), chain(lock, images / lock.max_value, axis)))
    else:
        divided = "the pipeline divides by 255 pixels that the lock takes as they are (0-1)"
        found.append((cause("rescaled", divided), chain(lock, images / 255.0, axis)))
    if len(lock.columns) > 1:
        order = (
            "the channels' statistics are applied in reverse order (BGR for RGB): the lock's "
            f"channels are {', '.join(lock.columns)}"
        )
        found.append((cause("channel_order", order), chain(lock, images, axis, reverse=True)))
    return found


def chain(
    lock: ImageLock,
    images: np.ndarray,
    axis: int,
    *,
    rescale: bool = True,
    reverse: bool = False,
) -> np.ndarray:
    """The lock's channel chains run along ``axis`` (without the rescale, or with the
    channels' chains in reverse order), then a ``per_image`` lock's standardization."""
    x = images.astype(np.float64)
    out = np.empty_like(x)
    features = list(lock.features)[:: -1 if reverse else 1]
    for c, feature in enumerate(features):
        steps = feature.steps[1:] if not rescale and lock.max_value is not None else feature.steps
        where = (slice(None),) * axis + (c,)
        plane = x[where]
        out[where] = FeatureLock(feature.name, steps).apply(plane.reshape(-1)).reshape(plane.shape)
    if lock.mode == "per_image":
        assert lock.epsilon is not None
        out = standardize(out, lock.layout, lock.epsilon)
    return out


def explain(lock: ImageLock, run: ProbeRun, got: np.ndarray) -> Cause | None:
    """The image mistake whose outputs fit ``got`` best, if one fits."""
    wide = got.astype(np.float64)
    eps = float(np.finfo(run.expected.dtype).eps)
    scale = np.ones(wide.shape)
    best: tuple[float, Cause] | None = None
    for found, candidate in candidates(lock, run.inputs):
        residual = candidate_residual(wide, candidate, scale)
        if residual <= EXPLAINED * eps and (best is None or residual < best[0]):
            best = (residual, found)
    if best is None and lock.mode == "per_image" and pooled(lock, run.inputs, wide):
        return cause(
            "pooled",
            "normalized with fixed per-channel statistics where the lock standardizes each "
            "image by its own mean and std",
        )
    return None if best is None else best[1]


def pooled(lock: ImageLock, images: np.ndarray, got: np.ndarray) -> bool:
    """Whether every channel's outputs are one affine map of its pixels in every image."""
    axis = channel_axis(lock.layout)
    for c in range(len(lock.columns)):
        x = np.take(images, c, axis=axis).reshape(-1).astype(np.float64)
        z = np.take(got, c, axis=axis).reshape(-1)
        design = np.column_stack([x, np.ones_like(x)])
        coefficients, *_ = np.linalg.lstsq(design, z, rcond=None)
        if np.abs(design @ coefficients - z).max() > 1e-5 * (1 + np.abs(z).max()):
            return False
    return True
