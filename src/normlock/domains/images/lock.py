"""The image lock: per-channel normalization of image batches in a declared layout.

An :class:`ImageLock` has one feature per channel (``red``, ``green``, ``blue`` for
three channels). Each channel's chain is the rescale of pixel values, written as
``minmax`` from ``[0, max_value]`` to ``[0, 1]`` (``x / 255`` for 8-bit images), then in
``pooled`` mode ``standard`` with the channel's mean and std over every pixel of the
training split: ``(x / 255 - mean) / std``. In ``per_image`` mode the chain stops after
the rescale and each image is then standardized by its own statistics
(:mod:`normlock.domains.images.per_image`); the lock holds that policy and its epsilon.

The lock also holds the layout (``NCHW`` or ``NHWC``) its batches come in, the dtype of
the training pixels and the rescale's ``max_value``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np

from normlock.domains.arrays import as_array, is_tensor, like
from normlock.domains.base import DomainLock
from normlock.domains.images.layout import LAYOUTS, as_batch, channel_axis, layout_of
from normlock.domains.images.per_image import standardize
from normlock.errors import NO_ORIGIN, DomainError, InputError, NotInvertibleError, Origin

T = TypeVar("T")
MODES = ("pooled", "per_image")
DEFAULT_EPSILON = 1e-5
"""The ``per_image`` epsilon by default: torch's ``InstanceNorm2d``'s."""


def rescale_params(max_value: float) -> dict[str, Any]:
    """The parameters of the ``minmax`` step that maps ``[0, max_value]`` to ``[0, 1]``."""
    return {"feature_range": [0.0, 1.0], "clip": False, "min": 0.0, "max": float(max_value)}


@dataclass(frozen=True)
class ImageLock(DomainLock):
    """Per-channel normalization of images (see the module docs).

    Attributes:
        layout: ``NCHW`` or ``NHWC``: where batches have their channels.
        mode: ``pooled`` (the training split's per-channel statistics) or ``per_image``
            (each image by its own, with :attr:`epsilon`).
        max_value: the pixel value that rescales to 1 (255 for 8-bit images); None when
            the pixels are not rescaled.
        epsilon: the ``per_image`` epsilon (None in ``pooled`` mode).
        pixel_dtype: the training pixels' dtype (None for declared constants).
    """

    KIND: ClassVar[str] = "images"
    layout: str = "NCHW"
    mode: str = "pooled"
    max_value: float | None = None
    epsilon: float | None = None
    pixel_dtype: str | None = None

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS or self.mode not in MODES:
            raise InputError(f"an image lock needs a layout in {LAYOUTS} and a mode in {MODES}")
        if (self.mode == "per_image") != (self.epsilon is not None):
            raise InputError("an image lock has an epsilon exactly when its mode is per_image")

    def section(self) -> dict[str, Any]:
        """The layout, mode, rescale, epsilon and training pixel dtype."""
        return {
            "layout": self.layout,
            "mode": self.mode,
            "max_value": self.max_value,
            "epsilon": self.epsilon,
            "pixel_dtype": self.pixel_dtype,
        }

    @classmethod
    def fields_of_section(cls, section: Mapping[str, Any]) -> dict[str, Any]:
        """Inverse of :meth:`section`."""
        optional = {
            k: None if section[k] is None else float(section[k]) for k in ("max_value", "epsilon")
        }
        dtype = section["pixel_dtype"]
        return {
            "layout": str(section["layout"]),
            "mode": str(section["mode"]),
            "pixel_dtype": None if dtype is None else str(dtype),
            **optional,
        }

    def describe(self) -> dict[str, Any]:
        """The layout, mode (and epsilon), rescale and training pixel dtype."""
        found: dict[str, Any] = {"layout": self.layout, "mode": self.mode}
        if self.epsilon is not None:
            found["epsilon"] = self.epsilon
        return {**found, "max_value": self.max_value, "pixel_dtype": self.pixel_dtype}

    def fitted_on(self) -> str:
        """``N images (P pixels)``, or ``declared constants``."""
        if "images" not in self.provenance:
            return "declared constants"
        return f"{self.provenance['images']:,} images ({self.provenance['rows']:,} pixels)"

    def served_batches(self, paths: list[str]) -> Iterator[np.ndarray]:
        """The image files, folders or globs ``paths`` as batches in the lock's layout."""
        from normlock.domains.images.sources import image_batches

        for batch in image_batches(list(paths), self.layout, len(self.columns)):
            yield batch.pixels

    @property
    def channels(self) -> tuple[str, ...]:
        """The channel names, in channel order."""
        return self.columns

    # ---- transform --------------------------------------------------------------------

    def transform(  # type: ignore[override]
        self,
        data: T,
        *,
        layout: str | None = None,
        dtype: Any = None,
        extra: Literal["error", "keep"] = "error",
        origin: Origin = NO_ORIGIN,
        out: np.ndarray | None = None,
    ) -> T:
        """Normalize images: a numpy array or torch tensor of rank 3 (one image) or 4 (a
        batch) in the lock's layout, or ``layout`` when given; the result has the same
        shape and container. Integer pixels give float32 (what image models take), float
        pixels keep their dtype; ``dtype`` sets another (float32 or float64).

        Anything else (a frame, a dict of channel columns, a 2-D array of pixels x
        channels) is normalized as by any lock, for a ``pooled`` lock.

        Example:
            >>> import numpy as np
            >>> from normlock.domains import images
            >>> lock = images.preset("imagenet", max_value=255)
            >>> lock.transform(np.full((1, 3, 2, 2), 255, np.uint8))[0, :, 0, 0]
            array([2.2489083, 2.4285715, 2.64     ], dtype=float32)
        """
        if not _is_images(data):
            if self.mode == "per_image":
                raise InputError(
                    "a per_image lock standardizes whole images: pass a batch (rank 4) or "
                    f"one image (rank 3) in {self.layout}"
                )
            return super().transform(data, extra=extra, origin=origin, out=out)
        return self._images(data, layout, dtype, inverse=False)

    def inverse_transform(  # type: ignore[override]
        self,
        data: T,
        *,
        layout: str | None = None,
        dtype: Any = None,
        extra: Literal["error", "keep"] = "error",
        origin: Origin = NO_ORIGIN,
    ) -> T:
        """Map normalized images back to pixel values (``pooled`` locks only: a
        ``per_image`` lock discards each image's statistics)."""
        if self.mode == "per_image":
            raise NotInvertibleError(
                "a per_image lock cannot be inverted: each image's own mean and std are not kept"
            )
        if not _is_images(data):
            return super().inverse_transform(data, extra=extra, origin=origin)
        return self._images(data, layout, dtype, inverse=True)

    def _images(self, data: Any, layout: str | None, dtype: Any, *, inverse: bool) -> Any:
        order = layout_of(layout, None) if layout is not None else self.layout
        pixels = as_array(data)
        batch = as_batch(pixels, order, len(self.columns))
        out_dtype = output_dtype(batch.dtype, dtype)
        check_finite(batch, order, self.columns)
        wide = self.mode == "per_image" or batch.dtype != out_dtype  # rescale in float64
        x = batch.astype(np.float64) if wide else batch
        axis = channel_axis(order)
        result = np.empty(batch.shape, np.float64 if self.mode == "per_image" else out_dtype)
        for c, feature in enumerate(self.features):
            where = (slice(None),) * axis + (c,)
            plane = x[where]
            result[where] = feature.apply(plane.reshape(-1), inverse=inverse).reshape(plane.shape)
        if self.mode == "per_image":
            assert self.epsilon is not None
            result = standardize(result, order, self.epsilon).astype(out_dtype)
        result = result.reshape(pixels.shape)
        return like(data, result)

    # ---- exports, verification, monitoring -------------------------------------------------

    def to_torch(self, **options: Any) -> Any:
        """A ``torch.nn.Module`` normalizing batches (or single images) in the lock's
        layout with the same bits as :meth:`transform` for ``pooled`` locks (see
        :mod:`normlock.domains.images.export`); ``layout=`` another layout.
        ``feature_dim=`` gives the plain lock module of :meth:`Lock.to_torch`."""
        if "feature_dim" in options:
            return super().to_torch(**options)
        from normlock.domains.images.export import to_torch

        return to_torch(self, **options)

    def to_onnx(self, **options: Any) -> Any:
        """An ONNX graph of rank-4 batches in the lock's layout (``input_dtype``
        ``uint8``, ``uint16``, ``float32`` or ``float64``; see
        :mod:`normlock.domains.images.export`). ``feature_axis=``/``rank=`` give the
        plain lock graph of :meth:`Lock.to_onnx`."""
        if "feature_axis" in options or "rank" in options:
            return super().to_onnx(**options)
        from normlock.domains.images.export import to_onnx

        return to_onnx(self, **options)

    def verify(self, target: Any, data: Any = None, **options: Any) -> Any:
        """Check a serving step that takes image batches in the lock's layout against
        the lock, with probe images per channel (see :mod:`normlock.domains.images.parity`),
        naming image mistakes: per-image where the lock pools (or the reverse), pixels in
        0-255 where 0-1 is expected (or the reverse), the other layout, BGR channels."""
        from normlock.domains.images.parity import verify_images

        return verify_images(self, target, data, **options)

    def monitor(self, stage: Literal["raw", "normalized"] = "raw", **options: Any) -> Any:
        """A monitor of served images, per channel (see :mod:`normlock.domains.monitoring`)."""
        from normlock.domains.monitoring import DomainMonitor

        if stage == "normalized" and self.mode == "per_image":
            raise InputError(
                "a per_image lock's outputs depend on each whole image: monitor it at stage 'raw'"
            )
        return DomainMonitor(self, stage, image_columns, **options)


def image_columns(lock: ImageLock, batch: Any) -> dict[str, np.ndarray]:
    """A batch of images as one column of pixel values per channel."""
    images = as_batch(as_array(batch), lock.layout, len(lock.columns))
    axis = channel_axis(lock.layout)
    return {name: np.take(images, c, axis=axis).reshape(-1) for c, name in enumerate(lock.columns)}


def _is_images(data: Any) -> bool:
    return (isinstance(data, np.ndarray) or is_tensor(data)) and data.ndim >= 3


def output_dtype(pixels: np.dtype[Any], asked: Any = None) -> type:
    """float32 for integer pixels, the pixels' own float dtype otherwise, or ``asked``."""
    if asked is not None:
        found = np.dtype(asked)
        if found not in (np.float32, np.float64):
            raise InputError(f"dtype must be float32 or float64, got {found}")
        return found.type
    return np.float64 if pixels == np.float64 else np.float32


def check_finite(
    batch: np.ndarray, layout: str, channels: tuple[str, ...], where: str = ""
) -> None:
    """Raise naming the first NaN or infinite pixel (image, row, column, channel)."""
    if batch.dtype.kind != "f":
        return
    bad = ~np.isfinite(batch)
    if not bad.any():
        return
    n, *rest = (int(i) for i in np.argwhere(bad)[0])
    c, y, x = (rest[0], rest[1], rest[2]) if layout == "NCHW" else (rest[2], rest[0], rest[1])
    value = float(batch[(n, *rest)])
    raise DomainError(
        f"{where or 'the images'}: image {n}, pixel (row {y}, column {x}), channel "
        f"{channels[c]!r} is {value!r} ({int(bad.sum())} non-finite value(s)); pixels must be "
        "finite numbers"
    )
