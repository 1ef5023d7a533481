"""The advisor's input from files: the first rows of every file, as one table of columns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from normlock.frames import read_columns

MAX_ROWS = 1_000_000
"""Rows the advisor reads at most (measurements settle long before)."""


def read_table(
    paths: Sequence[Path], max_rows: int = MAX_ROWS
) -> tuple[dict[str, np.ndarray], bool]:
    """The columns of the first ``max_rows`` rows of the files, and whether rows were left."""
    from normlock.io.files import batch_source

    parts: dict[str, list[np.ndarray]] = {}
    rows, truncated = 0, False
    for batch in batch_source(paths)():
        if rows >= max_rows:
            truncated = True
            break
        read = read_columns(batch)
        take = min(read.rows, max_rows - rows)
        truncated |= take < read.rows
        for name in read.names:
            parts.setdefault(name, []).append(np.asarray(read.arrays[name])[:take])
        rows += take
    return {n: np.concatenate(p) for n, p in parts.items()}, truncated
