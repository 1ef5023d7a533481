"""Bounding boxes: a declared format, pixels to relative coordinates and back.

>>> import numpy as np
>>> from normlock.domains import boxes
>>> lock = boxes.declare("xywh", size_columns=("width", "height"), output_format="cxcywh")
>>> rows = {"x": [10.0], "y": [20.0], "w": [30.0], "h": [40.0], "width": [100.0], "height": [200.0]}
>>> out = lock.transform({k: np.array(v) for k, v in rows.items()})
>>> [float(out[k][0]) for k in ("cx", "cy", "w", "h")]
[0.25, 0.2, 0.3, 0.2]

* :func:`declare`: declare the format, the units, the image size source, the output;
* :func:`fit`: the same, with every training box checked and its reference recorded;
* :class:`BoxLock`: ``transform``, ``inverse_transform``, ``verify`` and ``monitor``.
"""

from normlock.domains.boxes.fit import declare, fit
from normlock.domains.boxes.formats import FORMATS, convert
from normlock.domains.boxes.lock import BoxLock

__all__ = ["FORMATS", "BoxLock", "convert", "declare", "fit"]
