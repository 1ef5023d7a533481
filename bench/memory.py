"""The peak memory growth of a fit, each in a fresh process."""

from __future__ import annotations

from common import MemoryRow, run_child
from curve import COLUMNS

MB = 2**20
FIT_GROWTH = """
import sys
import numpy as np
import normlock as nl
rows, columns, method = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
X = np.empty((rows, columns), np.float32)
np.random.default_rng(rows).standard_normal(out=X, dtype=np.float32)  # in place: no copy
nl.fit(X[:1000], default=method)  # imports and thread pools are not the fit's growth
try:
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # the peak starts again from what is resident now
except OSError:
    pass
before = status("VmHWM")
nl.fit(X, default=method)
print("BENCH growth_kb", status("VmHWM") - before, file=sys.stderr)
"""


def fit_memory(sizes: list[int], only: str = "") -> list[MemoryRow]:
    """Peak memory growth of a numpy float32 fit, standard and robust (those whose name
    contains ``only``), on rows x 32 data generated in place in the child.

    Limit: the data's size + 64 MB; robust also one float64 copy of each column.
    """
    copies = {"standard": 0, "robust": 8}  # float64 bytes per value the fit may add
    methods = [m for m in copies if only.lower() in f"fit {m} numpy float32"]
    rows = []
    for size in sizes:
        data_mb = size * COLUMNS * 4 / MB
        for method in methods:
            _, values = run_child(FIT_GROWTH, str(size), str(COLUMNS), method)
            grown = values["growth_kb"] / 1024
            limit = data_mb + 64 + size * COLUMNS * copies[method] / MB
            note = f"data {data_mb:.0f} MB"
            rows.append(
                MemoryRow(
                    f"fit {method}",
                    "numpy float32",
                    size,
                    "peak growth",
                    grown,
                    limit,
                    grown <= limit,
                    note,
                )
            )
    return rows
