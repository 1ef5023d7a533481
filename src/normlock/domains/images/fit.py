"""``images.fit``: per-channel statistics of a training split of images, locked.

Every pixel of every training image counts once: the pooled mean and std of each
channel are the correctly rounded mean and population std of the rescaled pixels
``x / max_value`` over the whole split (exact sums, so any batching, file order or
merge of the same images gives the same lock, bit for bit). 8- and 16-bit pixels are
counted in a histogram, float pixels go through the compiled moments pass
(:mod:`normlock.domains.channels`). The lock's reference (what monitoring and probes
read) summarizes the raw pixel values of each channel.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from normlock.chain import FeatureLock, Step
from normlock.domains.base import source_name, stamp
from normlock.domains.channels import ChannelStats
from normlock.domains.images.layout import channel_axis as axis_of
from normlock.domains.images.layout import channel_values, layout_of
from normlock.domains.images.lock import (
    DEFAULT_EPSILON,
    MODES,
    ImageLock,
    check_finite,
    rescale_params,
)
from normlock.domains.images.sources import image_batches
from normlock.errors import InputError, NormlockWarning
from normlock.methods import get_method
from normlock.reference import reference_of
from normlock.stats import DEFAULT_EXACT_LIMIT, Summary

_FULL_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def channel_names(channels: Sequence[str] | None, width: int) -> list[str]:
    """Channel names: given, or ``red, green, blue`` for three channels, ``gray`` for
    one, ``red, green, blue, alpha`` for four, else ``channel0, channel1, ...``."""
    if channels is None:
        known = {1: ["gray"], 3: ["red", "green", "blue"], 4: ["red", "green", "blue", "alpha"]}
        return known.get(width, [f"channel{i}" for i in range(width)])
    names = [str(c) for c in channels]
    if len(names) != width or len(set(names)) != width:
        raise InputError(f"channels must be {width} distinct names, got {names}")
    return names


def fit(
    source: Any,
    *,
    layout: str | None = None,
    channel_axis: int | None = None,
    max_value: float | str | None = "auto",
    mode: str = "pooled",
    epsilon: float = DEFAULT_EPSILON,
    channels: Sequence[str] | None = None,
    sources: list[str] | None = None,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
) -> ImageLock:
    """Fit per-channel image normalization on the training images.

    Args:
        source: an array or tensor (a batch, or one image), a folder or glob of image
            files, or an iterable of batches such as a torch ``DataLoader`` (see
            :mod:`normlock.domains.images.sources`).
        layout: ``NCHW`` (default) or ``NHWC``: the layout of array batches, and of the
            batches the lock will normalize (image files are read in either).
        channel_axis: the same as ``layout``, by axis: ``1`` for NCHW, ``-1`` for NHWC.
        max_value: the pixel value that rescales to 1: ``"auto"`` (255 for uint8
            pixels, 65535 for uint16, no rescale for float pixels), a number, or None
            for no rescale.
        mode: ``pooled`` (the split's per-channel mean and std) or ``per_image`` (each
            image standardized by its own per-channel statistics, with ``epsilon``).
        epsilon: the ``per_image`` epsilon, ``(y - mean) / sqrt(var + epsilon)``.
        channels: the channel names (default ``red, green, blue`` for three channels).
        sources: names of the data, for the provenance (default: the source's).
        exact_limit: recorded with the reference quantiles.

    Returns:
        The :class:`ImageLock`.

    Example:
        >>> import numpy as np
        >>> from normlock.domains import images
        >>> pixels = np.arange(2 * 3 * 4 * 4, dtype=np.uint8).reshape(2, 3, 4, 4)
        >>> lock = images.fit(pixels)
        >>> [round(f.steps[1].params["mean"] * 255, 6) for f in lock.features]
        [31.5, 47.5, 63.5]
    """
    order = layout_of(layout, channel_axis)
    if mode not in MODES:
        raise InputError(f"mode must be 'pooled' or 'per_image', got {mode!r}")
    if mode == "per_image" and not (isinstance(epsilon, int | float) and epsilon > 0):
        raise InputError(f"epsilon must be a positive number, got {epsilon!r}")
    stats: ChannelStats | None = None
    scale: float | None = None
    names: list[str] = []
    images, sizes = 0, set()
    for batch in image_batches(source, order):
        pixels = batch.pixels
        if stats is None:
            scale = _max_value(max_value, pixels.dtype)
            names = channel_names(channels, pixels.shape[axis_of(order)])
            stats = ChannelStats(len(names), _rescale(scale), exact_limit)
        elif pixels.dtype != stats.dtype:
            raise InputError(
                f"{batch.origin} holds {pixels.dtype} pixels, the images before it "
                f"{stats.dtype}; convert every image to one dtype"
            )
        check_finite(pixels, order, tuple(names), batch.origin)
        _check_range(pixels, scale, batch.origin)
        stats.update(channel_values(pixels, order))
        images += pixels.shape[0]
        sizes.add(pixels.shape[2:] if order == "NCHW" else pixels.shape[1:3])
    if stats is None or stats.rows == 0:
        raise InputError("no images to fit on: the source yielded no image (or only empty ones)")
    features = _features(names, stats, scale, mode == "pooled")
    lock = ImageLock(
        features=tuple(features),
        columns=tuple(names),
        spec={"domain": "images", "mode": mode, "layout": order, "max_value": max_value},
        provenance={
            "sources": list(sources or [source_name(source)]),
            "rows": stats.rows,
            "images": images,
            "image_sizes": {"smallest": list(min(sizes)), "largest": list(max(sizes))},
            "exact_limit": exact_limit,
        },
        **stamp(),
        layout=order,
        mode=mode,
        max_value=scale,
        epsilon=float(epsilon) if mode == "per_image" else None,
        pixel_dtype=str(stats.dtype),
    )
    for name, found in lock.warnings.items():
        for message in found:
            warnings.warn(f"channel {name!r}: {message}", NormlockWarning, stacklevel=2)
    return lock


def _max_value(asked: float | str | None, dtype: np.dtype[Any]) -> float | None:
    if asked == "auto":
        return _FULL_SCALE.get(dtype)
    if asked is None:
        return None
    if isinstance(asked, bool) or not isinstance(asked, int | float) or not 0 < asked < np.inf:
        raise InputError(f"max_value must be a positive number, 'auto' or None, got {asked!r}")
    return float(asked)


def _rescale(scale: float | None) -> Any:
    if scale is None:
        return None
    step = Step("minmax", rescale_params(scale))
    feature = FeatureLock("rescale", (step,), nan="keep", inf="keep")
    return feature.apply


def _check_range(pixels: np.ndarray, scale: float | None, origin: str) -> None:
    """Pixels above the rescale's ``max_value`` are an error: the lock would map them
    past 1, a sign of images in another range than the one declared."""
    if scale is None or not pixels.size:
        return
    high = float(pixels.max())
    if high > scale:
        raise InputError(
            f"{origin}: pixel values up to {high:g} exceed max_value={scale:g}; pass the "
            "max_value of these images (65535 for 16-bit) or max_value=None"
        )


def _features(
    names: list[str], stats: ChannelStats, scale: float | None, pooled: bool
) -> list[FeatureLock]:
    standard = get_method("standard")
    config = standard.configure({})
    features = []
    for name, raw, staged in zip(names, stats.summaries(), stats.staged_summaries(), strict=True):
        steps = [Step("minmax", rescale_params(scale))] if scale is not None else []
        found: tuple[str, ...] = ()
        if pooled:
            fitted = standard.fit(config, staged)
            steps.append(Step("standard", fitted.params))
            found = fitted.warnings
        found += _range_warning(raw, scale)
        reference = reference_of(raw)
        features.append(FeatureLock(name, tuple(steps), "error", "error", reference, found))
    return features


def _range_warning(raw: Summary, scale: float | None) -> tuple[str, ...]:
    if scale is not None and scale > 1 and raw.max <= 1.0:
        return (
            f"every pixel is at most {raw.max:g} but max_value is {scale:g}: the images look "
            "already rescaled to [0, 1]; pass max_value=None if they are",
        )
    return ()
