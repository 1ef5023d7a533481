"""Box formats, their conversions, and the checks that name a bad box's row.

A box is four numbers: ``xyxy`` (left, top, right, bottom), ``xywh`` (left, top,
width, height) or ``cxcywh`` (center x, center y, width, height). Conversions are one
IEEE operation per coordinate, in float64:

* ``xyxy -> xywh``: ``w = x2 - x1``; ``xywh -> xyxy``: ``x2 = x + w``;
* ``cxcywh -> xyxy``: ``x1 = cx - w / 2``, ``x2 = cx + w / 2``;
  ``xyxy -> cxcywh``: ``cx = (x1 + x2) / 2``, ``w = x2 - x1``;
* ``xywh -> cxcywh``: ``cx = x + w / 2``; ``cxcywh -> xywh``: ``x = cx - w / 2``.

Halving is exact, so each coordinate is rounded at most once; for integer (or
half-integer) pixel coordinates below ``2**51`` every conversion is exact.
"""

from __future__ import annotations

import numpy as np

from normlock.errors import NO_ORIGIN, DomainError, Origin

FORMATS = {
    "xyxy": ("x1", "y1", "x2", "y2"),
    "xywh": ("x", "y", "w", "h"),
    "cxcywh": ("cx", "cy", "w", "h"),
}
"""Each format's default column names, in order."""


def to_xyxy(box: np.ndarray, fmt: str) -> np.ndarray:
    """``(N, 4)`` float64 boxes of ``fmt`` as ``xyxy``."""
    if fmt == "xyxy":
        return box
    if fmt == "xywh":
        return np.column_stack([box[:, 0], box[:, 1], box[:, 0] + box[:, 2], box[:, 1] + box[:, 3]])
    half_w, half_h = box[:, 2] / 2, box[:, 3] / 2
    return np.column_stack(
        [box[:, 0] - half_w, box[:, 1] - half_h, box[:, 0] + half_w, box[:, 1] + half_h]
    )


def from_xyxy(box: np.ndarray, fmt: str) -> np.ndarray:
    """``(N, 4)`` float64 ``xyxy`` boxes as ``fmt``."""
    if fmt == "xyxy":
        return box
    width, height = box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]
    if fmt == "xywh":
        return np.column_stack([box[:, 0], box[:, 1], width, height])
    return np.column_stack(
        [(box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2, width, height]
    )


def convert(box: np.ndarray, source: str, target: str) -> np.ndarray:
    """Boxes of format ``source`` in format ``target``: one operation per coordinate."""
    if source == target:
        return box
    if {source, target} == {"xywh", "cxcywh"}:
        sign = 1.0 if target == "cxcywh" else -1.0
        corner = box[:, :2] + sign * (box[:, 2:] / 2)
        return np.column_stack([corner, box[:, 2:]])
    return from_xyxy(to_xyxy(box, source), target)


def check_boxes(
    xyxy: np.ndarray,
    width: np.ndarray,
    height: np.ndarray,
    tolerance: float,
    origin: Origin = NO_ORIGIN,
) -> None:
    """Raise naming the first bad box: not finite, of negative width or height, an image
    size that is not positive, or reaching beyond the image by more than ``tolerance``
    (in the boxes' units)."""
    checks = [
        (~np.isfinite(xyxy).all(axis=1), "a coordinate is NaN or infinite"),
        (
            ~(np.isfinite(width) & np.isfinite(height) & (width > 0) & (height > 0)),
            "the image size is not positive",
        ),
        (xyxy[:, 2] < xyxy[:, 0], "its width is negative (right < left)"),
        (xyxy[:, 3] < xyxy[:, 1], "its height is negative (bottom < top)"),
        (
            (xyxy[:, 0] < -tolerance)
            | (xyxy[:, 1] < -tolerance)
            | (xyxy[:, 2] > width + tolerance)
            | (xyxy[:, 3] > height + tolerance),
            f"it reaches beyond the image by more than the tolerance {tolerance:g}",
        ),
    ]
    for bad, why in checks:
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            box = ", ".join(f"{v:g}" for v in xyxy[row])
            raise DomainError(
                f"box at {origin.at(row)} (left, top, right, bottom = {box}; image "
                f"{width[row]:g} x {height[row]:g}): {why} ({int(bad.sum())} such box(es)); "
                "fix the boxes, or check their format and whether they are in pixels"
            )
