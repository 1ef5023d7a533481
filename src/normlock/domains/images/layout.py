"""Image layouts: where the channels are, and batches checked against a lock's layout.

A lock's layout is ``NCHW`` (channels first, torch's convention) or ``NHWC`` (channels
last: numpy, Pillow, TensorFlow). A batch is a rank-4 array in that layout; a single
image (``CHW`` or ``HWC``, or ``HW`` for one channel) is a batch of one. A batch in the
other layout is an error that says so, never silently normalized along the wrong axis.
"""

from __future__ import annotations

import numpy as np

from normlock.errors import InputError

LAYOUTS = ("NCHW", "NHWC")


def layout_of(layout: str | None, channel_axis: int | None) -> str:
    """The layout named by ``layout`` or by ``channel_axis`` (``1``: NCHW; ``-1`` or
    ``3``: NHWC); NCHW when neither is given."""
    if channel_axis is not None:
        by_axis = {1: "NCHW", -3: "NCHW", 3: "NHWC", -1: "NHWC"}.get(channel_axis)
        if by_axis is None:
            raise InputError(
                f"channel_axis must be 1 (NCHW) or -1 (NHWC) for image batches, got {channel_axis}"
            )
        if layout is not None and layout_of(layout, None) != by_axis:
            raise InputError(f"layout={layout!r} and channel_axis={channel_axis} disagree")
        return by_axis
    if layout is None:
        return "NCHW"
    if not isinstance(layout, str) or layout.upper() not in LAYOUTS:
        raise InputError(f"layout must be 'NCHW' or 'NHWC', got {layout!r}")
    return layout.upper()


def other(layout: str) -> str:
    """The other layout."""
    return "NHWC" if layout == "NCHW" else "NCHW"


def channel_axis(layout: str) -> int:
    """The axis of the channels in a rank-4 batch of ``layout``."""
    return 1 if layout == "NCHW" else 3


def as_batch(
    images: np.ndarray, layout: str, channels: int, what: str = "the images"
) -> np.ndarray:
    """``images`` as a rank-4 batch in ``layout`` (a view): a batch as is, a single image
    with a leading axis of 1, a ``HW`` image of one channel with its channel axis.

    Raises:
        InputError: another rank, or the channels not where ``layout`` has them (the
            message says when the batch looks like it is in the other layout).
    """
    if images.ndim == 2 and channels == 1:
        images = images[None, None] if layout == "NCHW" else images[None, :, :, None]
    elif images.ndim == 3:
        images = images[None]
    if images.ndim != 4:
        raise InputError(
            f"{what} have shape {images.shape}: expected a batch of images ({layout}) or one "
            f"image ({layout[1:]})"
        )
    axis = channel_axis(layout)
    if images.shape[axis] == channels:
        return images
    hint = ""
    if images.shape[channel_axis(other(layout))] == channels:
        hint = (
            f"; it looks like {other(layout)} (channels {'last' if layout == 'NCHW' else 'first'})"
            f": transpose it to {layout} (numpy: np.moveaxis(x, {channel_axis(other(layout))}, "
            f"{axis}); torch: x.permute{_permutation(layout)}) or pass layout={other(layout)!r}"
        )
    raise InputError(
        f"{what} have shape {images.shape} but the lock has {channels} channel(s) on axis "
        f"{axis} of its {layout} layout{hint}"
    )


def _permutation(layout: str) -> tuple[int, ...]:
    return (0, 3, 1, 2) if layout == "NCHW" else (0, 2, 3, 1)


def to_layout(batch: np.ndarray, source: str, target: str) -> np.ndarray:
    """A rank-4 ``batch`` in layout ``source`` as a view in layout ``target``."""
    if source == target:
        return batch
    return np.transpose(batch, (0, 3, 1, 2) if target == "NCHW" else (0, 2, 3, 1))


def channel_values(batch: np.ndarray, layout: str) -> list[np.ndarray]:
    """Every channel's values of a rank-4 ``batch`` as 1-D arrays (copies only where a
    channel is not contiguous)."""
    axis = channel_axis(layout)
    return [np.take(batch, c, axis=axis).reshape(-1) for c in range(batch.shape[axis])]
