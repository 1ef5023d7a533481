"""Image locks from declared constants: presets and other libraries' configs.

They give the same kind of lock as :func:`normlock.domains.images.fit`: an
:class:`~normlock.domains.images.lock.ImageLock` with one feature per channel, each the
optional rescale ``minmax`` from ``[0, max_value]`` to ``[0, 1]`` (``x / 255`` for 8-bit
images), then ``standard`` with the declared mean and std: ``(x - mean) / std``, in the
layout given (``NCHW`` by default). Apply it with ``lock.transform(batch)``,
``lock.to_torch()`` or ``lock.to_onnx()``.

Sources: :data:`PRESETS` (ImageNet and others), a torchvision ``Normalize`` (any
object with ``mean`` and ``std``: torchvision itself is not needed), a Hugging Face
``preprocessor_config.json`` and a timm ``pretrained_cfg``. The lock computes in
float64 and rounds once; those libraries compute in the image's dtype (float32), so
their outputs can differ from the lock's by an ulp or so.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from normlock.chain import Step
from normlock.domains.arrays import as_array
from normlock.domains.images.fit import channel_names
from normlock.domains.images.layout import layout_of
from normlock.domains.images.lock import ImageLock, rescale_params
from normlock.errors import InputError
from normlock.export.imported import floats, imported_lock
from normlock.lock import Lock


@dataclass(frozen=True)
class ImagePreset:
    """Declared per-channel constants for images scaled to ``[0, 1]``."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    description: str


PRESETS = {
    "imagenet": ImagePreset(
        (0.485, 0.456, 0.406),
        (0.229, 0.224, 0.225),
        "ImageNet mean/std used by torchvision, timm and most Hugging Face vision models",
    ),
    "imagenet-standard": ImagePreset(
        (0.5, 0.5, 0.5),
        (0.5, 0.5, 0.5),
        "maps [0, 1] to [-1, 1] (Hugging Face's IMAGENET_STANDARD)",
    ),
    "openai-clip": ImagePreset(
        (0.48145466, 0.4578275, 0.40821073),
        (0.26862954, 0.26130258, 0.27577711),
        "OpenAI CLIP mean/std",
    ),
}
"""Named constants; ``preset("imagenet")`` is the usual ImageNet normalization."""


def image_lock(
    mean: Sequence[float] | None,
    std: Sequence[float] | None,
    *,
    max_value: float | None = None,
    channels: Sequence[str] | None = None,
    layout: str = "NCHW",
    source: str = "declared image constants",
    details: Mapping[str, Any] | None = None,
) -> ImageLock:
    """A per-channel image lock from declared constants.

    Args:
        mean: per-channel means of the rescaled image (None: no standardization).
        std: per-channel standard deviations, same length as ``mean``.
        max_value: the pixel value that rescales to 1 (255 for 8-bit images); None
            when the input is already in ``[0, 1]``.
        channels: channel names (default ``red, green, blue`` for three channels).
        layout: ``NCHW`` or ``NHWC``, the layout of the batches it normalizes.
        source: what the constants came from, for the provenance.
        details: the source's settings, for the provenance.

    Returns:
        An imported image lock (reference count 0).
    """
    if mean is None and max_value is None:
        raise InputError(f"{source} declares neither a rescale nor a mean/std; nothing to lock")
    width = len(mean) if mean is not None else len(channels or ("red", "green", "blue"))
    names = channel_names(channels, width)
    steps: dict[str, list[Step]] = {name: [] for name in names}
    if max_value is not None:
        if not (np.isfinite(max_value) and max_value > 0):
            raise InputError(f"the rescale's max_value must be a positive number, got {max_value}")
        for name in names:
            steps[name].append(Step("minmax", rescale_params(max_value)))
    if mean is not None:
        means = floats(mean, "mean", width)
        stds = floats(std, "std", width)
        for name, m, s in zip(names, means, stds, strict=True):
            if not s > 0:
                raise InputError(f"channel {name!r}: std must be positive, got {s}")
            params = {"with_mean": True, "with_std": True, "ddof": 0, "mean": m, "std": s}
            steps[name].append(Step("standard", params))
    base = imported_lock(steps, names, source=source, details=dict(details or {}))
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(Lock)}
    fields.pop("format_version")
    return ImageLock(
        **fields,
        layout=layout_of(layout, None),
        max_value=None if max_value is None else float(max_value),
    )


def preset(name: str, *, max_value: float | None = None, layout: str = "NCHW") -> ImageLock:
    """The named preset (see :data:`PRESETS`), with an optional rescale from ``[0, max_value]``.

    Example:
        >>> from normlock.domains.images import preset
        >>> preset("imagenet", max_value=255).transform({"red": 255.0, "green": 0.0, "blue": 0.0})
        {'red': 2.2489082969432315, 'green': -2.0357142857142856, 'blue': -1.8044444444444445}
    """
    if name not in PRESETS:
        raise InputError(f"unknown image preset {name!r}; presets: {', '.join(sorted(PRESETS))}")
    found = PRESETS[name]
    details = {"preset": name, "description": found.description}
    return image_lock(
        found.mean,
        found.std,
        max_value=max_value,
        layout=layout,
        source=f"preset {name!r}",
        details=details,
    )


def from_normalize(
    normalize: Any, *, max_value: float | None = None, layout: str = "NCHW"
) -> ImageLock:
    """A lock from a torchvision ``Normalize`` (or any object with ``mean`` and ``std``)."""
    mean, std = getattr(normalize, "mean", None), getattr(normalize, "std", None)
    if mean is None or std is None:
        raise InputError(
            f"{type(normalize).__name__} has no 'mean' and 'std' attributes; pass a "
            "torchvision Normalize or an object declaring them"
        )
    means = floats(mean, "Normalize.mean")
    return image_lock(
        means,
        floats(std, "Normalize.std", len(means)),
        max_value=max_value,
        layout=layout,
        source=f"torchvision-style {type(normalize).__name__}",
        details={"mean": means, "std": floats(std, "Normalize.std")},
    )


def from_hf_preprocessor(config: Mapping[str, Any] | str | Path) -> ImageLock:
    """A lock from a Hugging Face image processor config (``preprocessor_config.json``).

    Uses ``do_rescale`` (default true), ``rescale_factor`` (default 1/255),
    ``do_normalize`` (default true), ``image_mean`` and ``image_std``. The rescale
    becomes a division by ``1 / rescale_factor`` (255 for the default).
    """
    source = "Hugging Face preprocessor config"
    if isinstance(config, str | Path):
        source = f"Hugging Face {Path(config).name}"
        try:
            config = json.loads(Path(config).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read {str(config)!r} as JSON: {exc}") from None
    if not isinstance(config, Mapping):
        raise InputError(
            f"a preprocessor config must be a JSON object, got {type(config).__name__}"
        )
    mean = std = None
    if config.get("do_normalize", True):
        mean, std = _declared(config, "image_mean", "image_std", source)
    max_value = None
    if config.get("do_rescale", True):
        factor = config.get("rescale_factor", 1 / 255)
        if isinstance(factor, bool) or not isinstance(factor, int | float) or not factor > 0:
            raise InputError(f"{source}: rescale_factor must be a positive number, got {factor!r}")
        max_value = 1 / factor
    keys = ("do_rescale", "rescale_factor", "do_normalize", "image_mean", "image_std")
    details = {k: config[k] for k in keys if k in config}
    return image_lock(mean, std, max_value=max_value, source=source, details=details)


def from_timm(
    pretrained_cfg: Mapping[str, Any] | Any, *, max_value: float | None = None
) -> ImageLock:
    """A lock from a timm ``pretrained_cfg`` (a dict or an object with ``mean``/``std``).

    timm models take images in ``[0, 1]``; pass ``max_value=255`` to lock the rescale too.
    """
    if isinstance(pretrained_cfg, Mapping):
        cfg = pretrained_cfg
    else:
        cfg = {k: getattr(pretrained_cfg, k, None) for k in ("mean", "std", "hf_hub_id")}
    mean, std = _declared(cfg, "mean", "std", "timm pretrained_cfg")
    details = {
        "mean": mean,
        "std": std,
        **({"hf_hub_id": cfg["hf_hub_id"]} if cfg.get("hf_hub_id") else {}),
    }
    return image_lock(mean, std, max_value=max_value, source="timm pretrained_cfg", details=details)


def _declared(
    config: Mapping[str, Any], mean_key: str, std_key: str, source: str
) -> tuple[list[float], list[float]]:
    missing = [k for k in (mean_key, std_key) if config.get(k) is None]
    if missing:
        raise InputError(
            f"{source} has no {' or '.join(map(repr, missing))}; the library would fall back on "
            "a default (often ImageNet's), so lock it explicitly, e.g. with preset('imagenet')"
        )
    mean = config[mean_key]
    mean = floats(mean if isinstance(mean, list | tuple) else [mean] * 3, mean_key)
    std = config[std_key]
    std = floats(std if isinstance(std, list | tuple) else [std] * len(mean), std_key, len(mean))
    return mean, std


def transform_image(lock: Lock, image: Any, *, channel_axis: int = -3) -> np.ndarray:
    """Apply a lock with one feature per channel (an image lock, or a per-channel lock
    written before image locks) to an array whose ``channel_axis`` holds the channels.

    Args:
        lock: a lock with one feature per channel, in channel order.
        image: a numpy array (``CHW``, ``NCHW``, or ``HWC`` with ``channel_axis=-1``).
        channel_axis: the axis of the channels.

    Returns:
        The normalized array, same shape: float32 for float32 input, else float64.
    """
    array = as_array(image)
    inside = -array.ndim <= channel_axis < array.ndim
    if not inside or array.shape[channel_axis] != len(lock.columns):
        raise InputError(
            f"the image has shape {array.shape} but the lock has {len(lock.columns)} channels "
            f"({', '.join(lock.columns)}) on axis {channel_axis}"
        )
    moved = np.moveaxis(array, channel_axis, -1)
    flat = moved.reshape(-1, len(lock.columns))
    out = Lock.transform(lock, flat).reshape(moved.shape)
    return np.moveaxis(out, -1, channel_axis)
