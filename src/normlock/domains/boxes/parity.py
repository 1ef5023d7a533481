"""Verifying a serving step's box normalization against a box lock.

The probes are boxes of every kind (the whole image, a tiny one at a corner, one at the
opposite corner, off-center ones with half-pixel edges) on a wide and a tall image (or
the lock's fixed size), in the lock's input format and units, as a dict of columns
(boxes, then image width and height); float64 and float32. The target returns the
boxes normalized (a dict or frame with the output columns, or an ``(N, 4)`` array).
Mismatches are explained by the box mistakes:

* ``pixels``: boxes left in pixels where the lock outputs relative coordinates;
* ``swapped_size``: x divided by the height and y by the width;
* ``output_format``: the right numbers in another format (``xyxy`` for ``cxcywh``, ...);
* ``input_format``: the input boxes read as another format.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from normlock.domains.boxes.formats import FORMATS, convert
from normlock.domains.boxes.lock import BoxLock
from normlock.domains.parity import ProbeRun, domain_parity
from normlock.errors import DomainError
from normlock.frames import is_container, read_columns
from normlock.verify.cause import Cause
from normlock.verify.compare import candidate_residual
from normlock.verify.diagnose import EXPLAINED
from normlock.verify.parity import ParityReport, tolerance_of
from normlock.verify.rounding import ROUNDING_ULPS

_EPS64 = float(np.finfo(np.float64).eps)
_SIZES = ((640.0, 480.0), (300.0, 1000.0))
_CORNERS = np.array(  # left, top, right, bottom as fractions of the image
    [
        [0, 0, 1, 1],
        [0, 0, 0.01, 0.02],
        [0.97, 0.99, 1, 1],
        [0.25, 0.1, 0.75, 0.4],
        [0.3, 0.55, 0.35, 0.9],
    ]
)


def verify_boxes(
    lock: BoxLock, target: Any, data: Any = None, *, exact: bool = False, ulps: int | None = None
) -> ParityReport:
    """Check ``target`` against ``lock`` on probe boxes (and the rows of ``data``)."""
    rows = _probe_rows(lock)
    runs = [
        _run(lock, f"{d} probe boxes", {k: v.astype(d) for k, v in rows.items()})
        for d in ("float64", "float32")
    ]
    if data is not None:
        read = read_columns(data, default_names=lock.columns)
        runs.append(_run(lock, "data", {n: np.asarray(read.arrays[n]) for n in lock.columns}))
    return domain_parity(
        lock,
        target,
        runs,
        lambda matrix: list(matrix.T),
        lambda run, got: explain(lock, run, got),
        tolerance_of(exact, ulps),
        read=lambda out: _boxes_of(lock, out),
        names=lock.output_columns,
    )


def _probe_rows(lock: BoxLock) -> dict[str, np.ndarray]:
    sizes = [lock.image_size] if lock.image_size is not None else list(_SIZES)
    corners, widths, heights = [], [], []
    for width, height in sizes:
        scale = np.array([width, height, width, height])
        pixels = np.round(_CORNERS * scale * 2) / 2  # half-pixel edges
        corners.append(pixels if lock.coordinates == "absolute" else pixels / scale)
        widths += [width] * len(_CORNERS)
        heights += [height] * len(_CORNERS)
    boxes = convert(np.concatenate(corners), "xyxy", lock.format)
    rows = {n: boxes[:, j] for j, n in enumerate(lock.box_columns)}
    if lock.size_columns is not None:
        rows[lock.size_columns[0]], rows[lock.size_columns[1]] = np.array(widths), np.array(heights)
    return rows


def _run(lock: BoxLock, label: str, rows: dict[str, np.ndarray]) -> ProbeRun:
    out = lock.transform(rows)
    expected = np.column_stack([out[n] for n in lock.output_columns])
    values = np.column_stack([rows[n] for n in lock.box_columns])
    bound = ROUNDING_ULPS * _EPS64 * (np.abs(expected.astype(np.float64)) + 1)
    if expected.dtype == np.float32:
        bound = bound + np.spacing(np.abs(expected)).astype(np.float64)
    return ProbeRun(label, rows, expected, list(bound.T), values)


def _boxes_of(lock: BoxLock, out: Any) -> np.ndarray:
    if is_container(out) and not isinstance(out, np.ndarray):
        read = read_columns(out)
        names = [n for n in lock.output_columns if n in read.arrays] or list(read.names)[:4]
        return np.column_stack([np.asarray(read.arrays[n], dtype=np.float64) for n in names])
    return np.asarray(out, dtype=np.float64)


def explain(lock: BoxLock, run: ProbeRun, got: np.ndarray) -> Cause:
    """The box mistake whose outputs fit ``got``, or an unexplained cause."""
    eps = float(np.finfo(run.expected.dtype).eps)
    wide = got.astype(np.float64)
    for kind, message, candidate in _candidates(lock, run):
        if (
            candidate.shape == wide.shape
            and candidate_residual(wide, candidate, np.ones(wide.shape)) <= EXPLAINED * eps
        ):
            return Cause(kind, message)
    return Cause("unexplained", "the boxes differ in a way no box mistake explains")


def _candidates(lock: BoxLock, run: ProbeRun) -> list[tuple[str, str, np.ndarray]]:
    rows = {k: np.asarray(v, dtype=np.float64) for k, v in run.inputs.items()}
    expected = run.expected.astype(np.float64)
    found = []
    if lock.coordinates == "absolute":
        pixels = replace(lock, coordinates="relative", tolerance=np.inf)
        found.append(
            (
                "pixels",
                "boxes left in pixels where the lock outputs coordinates relative to the "
                "image size",
                _apply(pixels, rows),
            )
        )
        width, height = _size(lock, rows)
        swapped = expected * np.column_stack([width / height, height / width] * 2)
        found.append(
            (
                "swapped_size",
                "x coordinates divided by the image height and y by its width",
                swapped,
            )
        )
    for other in FORMATS:
        if other != lock.output_format:
            message = f"the boxes in {other} where the lock outputs {lock.output_format}"
            found.append(("output_format", message, convert(expected, lock.output_format, other)))
        if other != lock.format:
            misread = replace(lock, format=other, tolerance=np.inf)
            message = f"the input boxes read as {other} where they are {lock.format}"
            found.append(("input_format", message, _apply(misread, rows)))
    return found


def _apply(lock: BoxLock, rows: dict[str, np.ndarray]) -> np.ndarray:
    """The lock's outputs for the rows (empty where it rejects them: no candidate)."""
    try:
        with np.errstate(all="ignore"):
            out = lock.transform(rows, extra="keep")
    except DomainError:
        return np.empty((0, 4))
    return np.column_stack([out[n] for n in lock.output_columns]).astype(np.float64)


def _size(lock: BoxLock, rows: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    if lock.image_size is not None:
        count = len(next(iter(rows.values())))
        return np.full(count, lock.image_size[0]), np.full(count, lock.image_size[1])
    assert lock.size_columns is not None
    return rows[lock.size_columns[0]], rows[lock.size_columns[1]]
