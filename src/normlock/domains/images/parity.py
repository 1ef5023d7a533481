"""Verifying an image pipeline against an image lock, with probe images.

The probes are a few small images (no side as long as another, so that a pipeline
reading the other layout fails on them, and is then run on that layout) whose pixels are
each channel's probe values (training quantiles and extremes, 0 and ``max_value``),
in windows that give every image other statistics. They run in the training pixels'
dtype (``uint8`` for 8-bit images), float32 and float64. A mismatch is explained, when
the outputs fit it, by an image mistake:

* per-image standardization where the lock pools the split's statistics, or fixed
  statistics where the lock standardizes each image;
* pixels in 0-255 reaching a step that expects 0-1 (no rescale), or rescaled twice;
* a pipeline that takes the other layout (``NHWC`` for ``NCHW``): it fails on the
  lock's and runs on the other;
* the channels' statistics in reverse order (BGR for RGB)

(:mod:`normlock.domains.images.mistakes`); else by the per-channel diagnosis of
:mod:`normlock.verify.diagnose` (other statistics, a factor, sample std, float32
parameters, ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from normlock.chain import FeatureLock
from normlock.domains.images.layout import channel_axis, other, to_layout
from normlock.domains.images.lock import ImageLock
from normlock.domains.images.mistakes import cause, explain
from normlock.domains.images.per_image import instance_statistics
from normlock.domains.images.sources import image_batches
from normlock.domains.parity import ProbeRun, domain_parity, run_target
from normlock.domains.targets import ArrayTarget
from normlock.probes import probes_of
from normlock.verify.cause import Cause
from normlock.verify.parity import ParityReport, tolerance_of
from normlock.verify.rounding import ROUNDING_ULPS, rounding_bound

_FULL_SCALE = {255.0: np.uint8, 65535.0: np.uint16}
_EPS64 = float(np.finfo(np.float64).eps)


def verify_images(
    lock: ImageLock, target: Any, data: Any = None, *, exact: bool = False, ulps: int | None = None
) -> ParityReport:
    """Check ``target`` (a callable, torch module, ONNX model or reference to one, fed
    batches in the lock's layout) against ``lock`` on probe images and optional
    ``data`` (images, as :func:`~normlock.domains.images.fit` reads them)."""
    runs = [_run(lock, f"{np.dtype(d).name} probe images", images) for d, images in _probes(lock)]
    if data is not None:
        batch = next(iter(image_batches(data, lock.layout, len(lock.columns)))).pixels
        runs.append(_run(lock, "data", np.ascontiguousarray(batch)))
    return domain_parity(
        lock,
        target,
        runs,
        lambda array: _channels(lock, array),
        lambda run, got: explain(lock, run, got),
        tolerance_of(exact, ulps),
        lambda target, run, exc: _other_layout(lock, target, run),
    )


def _pixel_dtype(lock: ImageLock) -> type:
    if lock.pixel_dtype is not None:
        return np.dtype(lock.pixel_dtype).type
    return _FULL_SCALE.get(lock.max_value or 0.0, np.float32)


def _values(lock: ImageLock, feature: FeatureLock, dtype: type) -> np.ndarray:
    """A channel's probe pixel values, sorted (integers in range for integer pixels)."""
    probes = np.array(probes_of(feature)["input"], dtype=np.float64)
    probes = probes[np.isfinite(probes)]
    high = lock.max_value if lock.max_value is not None else max(1.0, float(probes.max(initial=1)))
    candidates = np.concatenate([probes, [0.0, high / 2, high]])
    if np.dtype(dtype).kind == "u":
        candidates = np.round(np.clip(candidates, 0, np.iinfo(dtype).max))
    return np.unique(candidates)


def _probes(lock: ImageLock) -> list[tuple[type, np.ndarray]]:
    """Probe batches in the lock's layout, in the pixels' dtype, float32 and float64.

    Each image has ``C + 1`` rows and ``C + 2`` columns for ``C`` channels: no side
    equals another, so that a pipeline reading the other layout fails on them (and is
    then tried on that layout) rather than normalizing the wrong axis unnoticed."""
    dtype = _pixel_dtype(lock)
    channels = len(lock.columns)
    rows, columns = channels + 1, channels + 2
    values = [_values(lock, f, dtype) for f in lock.features]
    count = max(4, max(len(v) for v in values) // rows + 1)
    pixels = np.empty((count, channels, rows, columns), np.float64)
    for c, found in enumerate(values):
        for k in range(count):  # a window of the sorted values: every image differs
            window = found[(k * rows + np.arange(rows * columns)) % len(found)]
            pixels[k, c] = window.reshape(rows, columns)
    batch = to_layout(pixels, "NCHW", lock.layout)
    dtypes = list(dict.fromkeys([dtype, np.float32, np.float64]))
    return [(d, np.ascontiguousarray(batch.astype(d))) for d in dtypes]


def _channels(lock: ImageLock, array: np.ndarray) -> list[np.ndarray]:
    axis = channel_axis(lock.layout)
    return [np.take(array, c, axis=axis).reshape(-1) for c in range(len(lock.columns))]


def _run(lock: ImageLock, label: str, images: np.ndarray) -> ProbeRun:
    expected = lock.transform(images)
    dtype = expected.dtype
    if lock.mode == "pooled":
        bounds = [
            rounding_bound(f, x, dtype)
            for f, x in zip(lock.features, _channels(lock, images), strict=True)
        ]
    else:
        bounds = _per_image_bounds(lock, images, expected)
    return ProbeRun(label, images, expected, bounds)


def _per_image_bounds(
    lock: ImageLock, images: np.ndarray, expected: np.ndarray
) -> list[np.ndarray]:
    """``K eps (2 |z| + (|mean| + s) / s)`` per value, ``s = sqrt(var + epsilon)``: each
    image's statistics a few ulps off (of the data's scale for the mean), and another
    order of the operations; plus a float32 ulp for float32 outputs."""
    y = _rescaled(lock, images)
    means, variances = instance_statistics(y, lock.layout)
    scales = np.sqrt(variances + (lock.epsilon or 0.0))
    relative = (np.abs(means) + scales) / scales
    z = expected.astype(np.float64)
    axis = channel_axis(lock.layout)
    bounds = []
    for c in range(len(lock.columns)):
        plane = np.abs(np.take(z, c, axis=axis)).reshape(z.shape[0], -1)
        bound = ROUNDING_ULPS * _EPS64 * (2 * plane + relative[:, c : c + 1])
        if expected.dtype == np.float32:
            bound = bound + np.spacing(plane.astype(np.float32)).astype(np.float64)
        bounds.append(bound.reshape(-1))
    return bounds


def _rescaled(lock: ImageLock, images: np.ndarray) -> np.ndarray:
    """The lock's rescale of the images (float64), without its standardization."""
    y = images.astype(np.float64)
    return y / lock.max_value if lock.max_value is not None else y


def _other_layout(
    lock: ImageLock, target: ArrayTarget, run: ProbeRun
) -> tuple[np.ndarray, Cause] | None:
    """A target that fails on the lock's layout but runs on the other one."""
    swapped = np.ascontiguousarray(to_layout(run.inputs, lock.layout, other(lock.layout)))
    swapped_run = ProbeRun(
        run.label, swapped, to_layout(run.expected, lock.layout, other(lock.layout)), run.bounds
    )
    try:
        got = run_target(target, swapped_run)
    except Exception:
        return None
    back = np.ascontiguousarray(to_layout(got, other(lock.layout), lock.layout))
    swapped_name = other(lock.layout)
    message = (
        f"the target takes {swapped_name} batches (it fails on {lock.layout}, the lock's "
        f"layout): transpose the batches before it, or refit the lock with "
        f"layout={swapped_name!r}"
    )
    return back, cause("layout", message)
