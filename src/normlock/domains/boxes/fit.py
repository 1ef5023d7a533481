"""``boxes.declare`` declares a box lock; ``boxes.fit`` also checks every training box and
records the training reference of each coordinate (for monitoring)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from normlock.chain import FeatureLock, as_float64
from normlock.domains.base import source_name, stamp
from normlock.domains.boxes.formats import FORMATS, check_boxes, to_xyxy
from normlock.domains.boxes.lock import BoxLock
from normlock.domains.channels import ChannelStats
from normlock.errors import InputError, Origin
from normlock.frames import is_container, read_columns
from normlock.reference import reference_of
from normlock.stats import DEFAULT_EXACT_LIMIT, Summary


def declare(
    format: str = "xyxy",
    *,
    coordinates: str = "absolute",
    size_columns: Sequence[str] | None = None,
    image_size: Sequence[float] | None = None,
    columns: Sequence[str] | None = None,
    output_format: str | None = None,
    output_columns: Sequence[str] | None = None,
    clip: bool = False,
    tolerance: float = 0.0,
) -> BoxLock:
    """Declare a box lock.

    Args:
        format: ``xyxy``, ``xywh`` or ``cxcywh``: the input boxes' format.
        coordinates: ``absolute`` (pixels) or ``relative`` (fractions of the image).
        size_columns: the per-row image ``(width, height)`` columns.
        image_size: a fixed ``(width, height)`` instead.
        columns: the input boxes' four columns (default the format's: ``x1, y1, x2, y2``).
        output_format: the output format (default the input's).
        output_columns: the output's four columns (default the output format's names,
            or the input's when the format stays).
        clip: clip output corners to the image.
        tolerance: how far a box may reach beyond the image (pixels, or fractions for
            relative boxes) before it is an error.

    Example:
        >>> import numpy as np
        >>> from normlock.domains import boxes
        >>> lock = boxes.declare("xyxy", image_size=(640, 480), output_format="cxcywh")
        >>> lock.transform({"x1": np.array([0.0]), "y1": np.array([0.0]),
        ...                 "x2": np.array([320.0]), "y2": np.array([480.0])})
        {'cx': array([0.25]), 'cy': array([0.5]), 'w': array([0.5]), 'h': array([1.])}
    """
    return _lock(locals(), [], rows=0, sources=["declared"])


def _lock(
    settings: dict[str, Any], references: list[Any], rows: int, sources: list[str]
) -> BoxLock:
    fmt = settings["format"]
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    target = settings["output_format"] or fmt
    names = tuple(settings["columns"] or FORMATS[fmt])
    outputs = tuple(settings["output_columns"] or (names if target == fmt else FORMATS[target]))
    sizes = settings["size_columns"]
    fixed = settings["image_size"]
    if len(names) != 4:
        raise InputError(f"columns must be four names, got {list(names)}")
    empty = reference_of(Summary.empty())
    features = tuple(
        FeatureLock(n, (), "error", "error", references[i] if references else empty)
        for i, n in enumerate(names)
    )
    size_columns = None if sizes is None else (str(sizes[0]), str(sizes[1]))
    return BoxLock(
        features=features,
        columns=names + (size_columns or ()),
        passthrough=size_columns or (),
        spec={"domain": "boxes", **{k: v for k, v in settings.items() if k != "data"}},
        provenance={"sources": sources, "rows": rows},
        **stamp(),
        format=fmt,
        coordinates=settings["coordinates"],
        size_columns=size_columns,
        image_size=None if fixed is None else (float(fixed[0]), float(fixed[1])),
        output_format=target,
        output_columns=outputs,
        clip=bool(settings["clip"]),
        tolerance=float(settings["tolerance"]),
    )


def fit(
    data: Any,
    *,
    format: str = "xyxy",
    coordinates: str = "absolute",
    size_columns: Sequence[str] | None = None,
    image_size: Sequence[float] | None = None,
    columns: Sequence[str] | None = None,
    output_format: str | None = None,
    output_columns: Sequence[str] | None = None,
    clip: bool = False,
    tolerance: float = 0.0,
    sources: list[str] | None = None,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
) -> BoxLock:
    """Declare a box lock (see :func:`declare`), check every training box (an error names
    the first bad row) and record each input coordinate's training reference.

    ``data``: a frame, a dict of columns, an ``(N, 4)`` array (fixed size), Parquet/CSV
    files, or an iterable of such chunks.
    """
    settings = {k: v for k, v in locals().items() if k not in ("data", "sources", "exact_limit")}
    declared = _lock(settings, [], 0, [])
    stats = ChannelStats(4, None, exact_limit)
    rows = 0
    for chunk in _chunks(data):
        read = read_columns(chunk, default_names=declared.columns)
        missing = [n for n in declared.columns if n not in read.arrays]
        if missing:
            raise InputError(f"the boxes lack column(s) {missing} (they have {list(read.names)})")
        origin = Origin(None, rows)
        box = np.column_stack([as_float64(n, read.arrays[n], origin) for n in declared.box_columns])
        width, height = declared._sizes(read, origin)
        if coordinates == "relative":
            width, height = np.ones(read.rows), np.ones(read.rows)
        check_boxes(to_xyxy(box, declared.format), width, height, declared.tolerance, origin)
        if read.rows:
            stats.update(list(box.T))
        rows += read.rows
    if rows == 0:
        raise InputError("no boxes to fit on")
    references = [reference_of(s) for s in stats.summaries()]
    return _lock(settings, references, rows, list(sources or [source_name(data)]))


def _chunks(data: Any) -> Iterable[Any]:
    if is_container(data):
        return [data]
    if isinstance(data, str) or (
        isinstance(data, list | tuple) and data and isinstance(data[0], str)
    ):
        from normlock.io.files import batch_source, expand

        return batch_source(expand([data] if isinstance(data, str) else list(data)))()
    return data
