"""The box lock: bounding boxes to relative coordinates, in a declared format.

A :class:`BoxLock` declares its boxes' format (``xyxy``, ``xywh``, ``cxcywh``; see
:mod:`normlock.domains.boxes.formats`), whether they come in pixels (``absolute``) or
already relative to the image (``relative``), where each image's size comes from (two
columns per row, or one fixed size), the output format, and whether outputs are
clipped to the image. The transform checks every box (an error names the first bad
row), converts it to the output format in pixels, optionally clips its corners to the
image, and divides x coordinates by the width and y coordinates by the height: in
float64, rounded once (float32 stays float32). The inverse multiplies back and
converts to the input format.

Its features are the four input coordinates, with their training reference when the
lock was fitted on boxes (monitoring then sees pixels where relative coordinates were
fitted as a unit change); they carry no chain of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np

from normlock.chain import as_float64, output_dtype
from normlock.domains.base import DomainLock
from normlock.domains.boxes.formats import FORMATS, check_boxes, convert, to_xyxy
from normlock.errors import NO_ORIGIN, ColumnNotFoundError, InputError, Origin
from normlock.frames import Columns, read_columns, write_columns

T = TypeVar("T")
COORDINATES = ("absolute", "relative")


@dataclass(frozen=True)
class BoxLock(DomainLock):
    """Bounding boxes to relative coordinates (see the module docs).

    Attributes:
        format: the input boxes' format.
        coordinates: ``absolute`` (pixels) or ``relative`` (fractions of the image).
        size_columns: the per-row image width and height columns, or None.
        image_size: the fixed ``(width, height)``, or None.
        output_format: the output boxes' format.
        output_columns: the output boxes' column names.
        clip: whether output corners are clipped to the image.
        tolerance: how far (in pixels for absolute boxes, in fractions for relative
            ones) a box may reach beyond the image before it is an error.
    """

    KIND: ClassVar[str] = "boxes"
    format: str = "xyxy"
    coordinates: str = "absolute"
    size_columns: tuple[str, str] | None = None
    image_size: tuple[float, float] | None = None
    output_format: str = "xyxy"
    output_columns: tuple[str, ...] = FORMATS["xyxy"]
    clip: bool = False
    tolerance: float = 0.0

    def __post_init__(self) -> None:
        if self.format not in FORMATS or self.output_format not in FORMATS:
            raise InputError(
                f"box formats are {', '.join(FORMATS)}, got {self.format!r}, {self.output_format!r}"
            )
        if self.coordinates not in COORDINATES:
            raise InputError(
                f"coordinates must be 'absolute' or 'relative', got {self.coordinates!r}"
            )
        if (self.size_columns is None) == (self.image_size is None):
            raise InputError(
                "a box lock takes the image size from size_columns or image_size, one of them"
            )
        if len(self.output_columns) != 4:
            raise InputError(f"output_columns must be four names, got {self.output_columns}")

    @property
    def box_columns(self) -> tuple[str, ...]:
        """The input boxes' four columns."""
        return self.feature_names

    def section(self) -> dict[str, Any]:
        """The formats, coordinates, size source, clip and tolerance."""
        return {
            "format": self.format,
            "coordinates": self.coordinates,
            "size_columns": None if self.size_columns is None else list(self.size_columns),
            "image_size": None if self.image_size is None else list(self.image_size),
            "output_format": self.output_format,
            "output_columns": list(self.output_columns),
            "clip": self.clip,
            "tolerance": self.tolerance,
        }

    @classmethod
    def fields_of_section(cls, section: Mapping[str, Any]) -> dict[str, Any]:
        """Inverse of :meth:`section`."""
        sizes, fixed = section["size_columns"], section["image_size"]
        return {
            "format": str(section["format"]),
            "coordinates": str(section["coordinates"]),
            "size_columns": None if sizes is None else (str(sizes[0]), str(sizes[1])),
            "image_size": None if fixed is None else (float(fixed[0]), float(fixed[1])),
            "output_format": str(section["output_format"]),
            "output_columns": tuple(str(c) for c in section["output_columns"]),
            "clip": bool(section["clip"]),
            "tolerance": float(section["tolerance"]),
        }

    def describe(self) -> dict[str, Any]:
        """The formats, coordinates and size source."""
        size = (
            f"columns {', '.join(self.size_columns)}"
            if self.size_columns
            else f"fixed {self.image_size}"
        )
        return {
            "format": self.format,
            "coordinates": self.coordinates,
            "image_size": size,
            "output_format": self.output_format,
            "clip": self.clip,
            "tolerance": self.tolerance,
        }

    def fitted_on(self) -> str:
        """``N boxes``, or declared."""
        rows = self.provenance.get("rows", 0)
        return f"{rows:,} boxes" if rows else "a declaration (no boxes fitted)"

    # ---- transform --------------------------------------------------------------------

    def _sizes(self, read: Columns, origin: Origin) -> tuple[np.ndarray, np.ndarray]:
        if self.image_size is not None:
            return np.full(read.rows, self.image_size[0]), np.full(read.rows, self.image_size[1])
        assert self.size_columns is not None
        return tuple(as_float64(n, read.arrays[n], origin) for n in self.size_columns)  # type: ignore[return-value]

    def _read(self, data: Any, names: tuple[str, ...], extra: str) -> Columns:
        read = read_columns(data, default_names=self.columns)
        wanted = [*names, *(self.size_columns or ())]
        missing = [n for n in wanted if n not in read.arrays]
        if missing:
            raise ColumnNotFoundError.from_missing(missing, read.names)
        unknown = [n for n in read.names if n not in set(wanted) | set(self.columns)]
        if unknown and extra == "error":
            raise InputError(
                f"column(s) {unknown} are not in the lock (it knows {list(self.columns)}); "
                "drop them, or pass extra='keep' to carry them through unchanged"
            )
        return read

    def transform(  # type: ignore[override]
        self,
        data: T,
        *,
        extra: Literal["error", "keep"] = "error",
        origin: Origin = NO_ORIGIN,
        **_: Any,
    ) -> T:
        """Relative boxes in the output format, same container (a frame, a dict of
        columns, an ``(N, 4)`` array for a fixed image size; the columns take the output
        names)."""
        read = self._read(data, self.box_columns, extra)
        raw = [read.arrays[n] for n in self.box_columns]
        box = np.column_stack(
            [as_float64(n, c, origin) for n, c in zip(self.box_columns, raw, strict=True)]
        )
        width, height = self._sizes(read, origin)
        scale_w, scale_h = (
            (width, height) if self.coordinates == "absolute" else (np.ones(read.rows),) * 2
        )
        corners = to_xyxy(box, self.format)
        check_boxes(corners, scale_w, scale_h, self.tolerance, origin)
        if self.clip:
            corners = np.column_stack(
                [np.clip(corners[:, i], 0.0, (scale_w, scale_h)[i % 2]) for i in range(4)]
            )
            box, source = corners, "xyxy"
        else:
            source = self.format
        out = convert(box, source, self.output_format)
        if self.coordinates == "absolute":
            out = out / np.column_stack([width, height, width, height])
        dtype = output_dtype(np.result_type(*[c.dtype for c in raw]))
        outputs = {n: out[:, j].astype(dtype) for j, n in enumerate(self.box_columns)}
        return _renamed(
            write_columns(data, read, outputs),
            read,
            dict(zip(self.box_columns, self.output_columns, strict=True)),
        )

    def inverse_transform(  # type: ignore[override]
        self, data: T, *, extra: Literal["error", "keep"] = "error", origin: Origin = NO_ORIGIN
    ) -> T:
        """Boxes back in the input format and units from relative output-format boxes
        (under the output column names)."""
        read = self._read(data, self.output_columns, extra)
        raw = [read.arrays[n] for n in self.output_columns]
        box = np.column_stack(
            [as_float64(n, c, origin) for n, c in zip(self.output_columns, raw, strict=True)]
        )
        if self.coordinates == "absolute":
            width, height = self._sizes(read, origin)
            box = box * np.column_stack([width, height, width, height])
        out = convert(box, self.output_format, self.format)
        dtype = output_dtype(np.result_type(*[c.dtype for c in raw]))
        outputs = {n: out[:, j].astype(dtype) for j, n in enumerate(self.output_columns)}
        return _renamed(
            write_columns(data, read, outputs),
            read,
            dict(zip(self.output_columns, self.box_columns, strict=True)),
        )

    # ---- verification and monitoring --------------------------------------------------

    def verify(self, target: Any, data: Any = None, **options: Any) -> Any:
        """Check a serving step's box normalization against the lock on probe boxes,
        naming pixels where relative coordinates are expected (or the reverse), another
        format, width and height swapped, and clipping (see
        :mod:`normlock.domains.boxes.parity`)."""
        from normlock.domains.boxes.parity import verify_boxes

        return verify_boxes(self, target, data, **options)

    def monitor(self, stage: Literal["raw", "normalized"] = "raw", **options: Any) -> Any:
        """A monitor of served boxes' input coordinates against the fitted reference."""
        from normlock.domains.monitoring import DomainMonitor

        if not self.provenance.get("rows"):
            raise InputError(
                "a declared box lock has no training reference: fit it on boxes to monitor"
            )
        if stage != "raw":
            raise InputError("box locks are monitored at stage 'raw' (their input coordinates)")
        return DomainMonitor(self, stage, lambda lock, batch: batch, **options)


def _renamed(result: Any, read: Columns, names: dict[str, str]) -> Any:
    """``result`` with its box columns renamed (containers with column names)."""
    if all(k == v for k, v in names.items()) or read.kind in ("numpy", "row"):
        return result
    if read.kind in ("dict", "row_dict"):
        return type(result)((names.get(k, k), v) for k, v in result.items())
    if read.kind == "pandas":
        return result.rename(columns=names)
    if read.kind == "polars":
        return result.rename(names)
    return result.rename_columns([names.get(n, n) for n in result.column_names])
