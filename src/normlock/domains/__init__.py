"""Domain locks: images, bounding boxes, audio and time series as first-class locks.

Each domain has its own input layout and conventions, and its own train/serve mistakes:
a per-image std at serving where training pooled the dataset, boxes in pixels fed to a
model trained on relative ones, a spectrogram standardized per clip where training
standardized per frequency bin, an unseen series normalized with another's statistics.
A domain lock is a :class:`~normlock.lock.Lock` (it saves, loads, shows, diffs,
verifies, is monitored and is stored in the registry like any lock) whose file also
holds the domain's section: its layout, policies and, for series, the per-series
statistics. Domain locks are written in lock format 2.

* :mod:`normlock.domains.images`: per-channel statistics of image pixels, pooled over
  the training images or per image;
* :mod:`normlock.domains.series`: statistics per series of a panel, joined by id;
* :mod:`normlock.domains.audio`: waveform policies and per-bin spectrogram statistics;
* :mod:`normlock.domains.boxes`: bounding boxes to relative coordinates and back.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from normlock.errors import LockFormatError

if TYPE_CHECKING:
    from normlock.lock import Lock

KINDS = {
    "images": ("normlock.domains.images", "ImageLock"),
    "series": ("normlock.domains.series", "SeriesLock"),
    "windows": ("normlock.domains.series", "WindowLock"),
    "audio": ("normlock.domains.audio", "AudioLock"),
    "boxes": ("normlock.domains.boxes", "BoxLock"),
}
"""Each domain's name in a lock file, and the module and class that read it."""


def lock_class(kind: str, source: str = "lock") -> type[Lock]:
    """The lock class of the domain ``kind`` (as a lock file names it).

    Raises:
        LockFormatError: a domain this normlock does not know (written by a newer one).
    """
    if not isinstance(kind, str) or kind not in KINDS:
        raise LockFormatError(
            f"{source} is a lock of domain {kind!r}, which this normlock does not know "
            f"(it knows {', '.join(KINDS)}); upgrade normlock to load it"
        )
    module, name = KINDS[kind]
    found: type[Lock] = getattr(import_module(module), name)
    return found
