"""Does a target look like a classification label? A label needs no normalization."""

from __future__ import annotations

import numpy as np

MAX_CLASSES = 10
"""A target of at most this many distinct integer values reads as a set of classes."""


def label_warning(name: str, distinct: np.ndarray, exact: bool) -> str | None:
    """A warning when the target ``name``, whose distinct finite values (all of them when
    ``exact``, else those of the row sample) are ``distinct``, looks like class labels."""
    if not 1 < distinct.size <= MAX_CLASSES or not np.all(distinct == np.round(distinct)):
        return None
    shown = ", ".join(f"{v:g}" for v in distinct)
    seen = "" if exact else " in a sample of the rows"
    return (
        f"target {name!r} looks like a classification label ({distinct.size} distinct integer "
        f"values{seen}: {shown}); a class label needs no normalization: leave target= out "
        "and keep the label as it is"
    )
