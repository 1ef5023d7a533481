"""Where training images come from: arrays, image files, and iterators of batches.

:func:`image_batches` turns a source into rank-4 numpy batches in a given layout, each
with a description of where it came from (for error messages):

* a numpy array or torch tensor: a batch in the layout (or one image);
* a folder (its image files, recursively, in name order), a glob pattern or one file,
  or a list of them:
  PNG, JPEG, TIFF, BMP, GIF and WebP read with Pillow (``pip install pillow``) as the
  file stores them: 8 or 16 bits per value, 1 (grayscale), 3 (RGB) or 4 (RGBA) channels;
  palette images as RGB. Files may differ in size, not in channels or bit depth;
* a list of arrays, or any iterable of batches (a torch ``DataLoader``): an item may be
  an array or tensor, a tuple or list whose first element is one (``(images, labels)``),
  or a dict with ``pixel_values``, ``image`` or ``images``.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from normlock.domains.arrays import as_array, is_tensor
from normlock.domains.images.layout import as_batch, to_layout
from normlock.domains.images.layout import channel_axis as axis_of
from normlock.errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp")
_KEYS = ("pixel_values", "image", "images")
_MODES = {"1": "L", "P": "RGB", "PA": "RGBA", "LA": "RGBA", "CMYK": "RGB", "YCbCr": "RGB"}


@dataclass(frozen=True)
class ImageBatch:
    """A rank-4 batch of images in the fit's layout, and where it came from."""

    pixels: np.ndarray
    origin: str


def image_files(source: str | Path) -> list[Path]:
    """The image files of a folder (recursively), a glob pattern or one file, sorted.

    Raises:
        InputError: nothing matches, or the folder holds no image file.
    """
    path = Path(source)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise InputError(
                f"folder {str(source)!r} holds no image file ({', '.join(IMAGE_SUFFIXES)})"
            )
        return found
    if path.is_file():
        return [path]
    matched = sorted(Path(p) for p in glob.glob(str(source), recursive=True))
    files = [p for p in matched if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise InputError(f"no image file matches {str(source)!r}")
    return files


def read_image(path: Path) -> np.ndarray:
    """One image file as an ``HWC`` array of its stored values (uint8 or uint16)."""
    try:
        from PIL import Image
    except ImportError:
        raise InputError("reading image files needs Pillow: pip install pillow") from None
    try:
        with Image.open(path) as image:
            mode = image.mode
            if mode in _MODES:
                image = image.convert(_MODES[mode])
            elif mode.startswith("I;16"):
                return np.asarray(image).astype(np.uint16)[:, :, None]
            elif mode in ("I", "F"):
                raise InputError(
                    f"file {str(path)!r}: Pillow mode {mode!r} (32-bit values) is not a pixel "
                    "format normlock reads; save it as 8- or 16-bit, or pass the arrays"
                )
            pixels = np.asarray(image)
    except OSError as exc:
        raise InputError(f"file {str(path)!r} is not a readable image: {exc}") from None
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def _first_array(item: Any, where: str) -> Any:
    if isinstance(item, dict):
        for key in _KEYS:
            if key in item:
                return item[key]
        raise InputError(f"{where} is a dict without {' or '.join(map(repr, _KEYS))}")
    if isinstance(item, list | tuple) and item and not isinstance(item[0], int | float):
        return item[0]
    return item


def image_batches(source: Any, layout: str, channels: int | None = None) -> Iterator[ImageBatch]:
    """Rank-4 batches in ``layout`` from ``source`` (see the module docs); ``channels``
    checks their number of channels (None: the first batch's)."""
    if (
        isinstance(source, list | tuple)
        and source
        and all(isinstance(s, str | Path) for s in source)
    ):
        for one in source:  # several folders, globs or files
            for batch in image_batches(one, layout, channels):
                channels = channels or batch.pixels.shape[axis_of(layout)]
                yield batch
        return
    if isinstance(source, str | Path):
        for path in image_files(source):
            pixels = to_layout(read_image(path)[None], "NHWC", layout)
            channels = channels or _channels_of(pixels, layout)
            yield ImageBatch(_checked(pixels, layout, channels, f"file {str(path)!r}"), str(path))
        return
    items: Iterable[Any] = [source] if _is_array(source) else source
    if not isinstance(items, Iterable):
        raise InputError(
            f"cannot read images from {type(source).__name__}: pass an array or tensor, a "
            "folder, a glob pattern, or an iterable of batches such as a DataLoader"
        )
    for index, item in enumerate(items):
        where = "the images" if items is not source else f"batch {index}"
        pixels = as_array(_first_array(item, where))
        channels = channels or _channels_of(pixels, layout)
        yield ImageBatch(_checked(pixels, layout, channels, where), where)


def _is_array(source: Any) -> bool:
    return isinstance(source, np.ndarray) or is_tensor(source)


def _channels_of(pixels: np.ndarray, layout: str) -> int:
    """The channels of a batch, of one image (rank 3) or of a ``HW`` image (1)."""
    if pixels.ndim < 3:
        return 1
    first = layout == "NCHW"
    return pixels.shape[(1 if first else 3) if pixels.ndim == 4 else (0 if first else 2)]


def _checked(pixels: np.ndarray, layout: str, channels: int, where: str) -> np.ndarray:
    if pixels.dtype.kind not in "uif" or pixels.dtype == np.float16:
        raise InputError(
            f"{where} holds {pixels.dtype} values; images must be unsigned integers (uint8, "
            "uint16) or float32/float64"
        )
    return as_batch(pixels, layout, channels, where)
