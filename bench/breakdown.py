"""Where a fit's time goes: its parts timed alone on the same array, at several sizes.

Usage:
    python bench/breakdown.py [--sizes 100000,1000000] [--repeat 9]

Each part is the best of ``--repeat`` runs (the parts are short and the machine noisy):
the compiled pass without hashes (counts, extrema, exact sums), the same pass keeping the
row hashes below the fit's bound, the one sort of those hashes (the compiled bucket sort
the fit uses, on a copy), the row sample's update (gathering its rows), the whole fit, and
the fit with the lock's reference computed (what saving it adds before the JSON is
written).
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable

import numpy as np
from common import samples

import normlock as nl
from normlock.stats.kernel import HASH_BITS, column_moments, sort_pairs
from normlock.stats.rows import RowSketch
from normlock.stats.sample import HashSample


def best(function: Callable[[], object], repeat: int) -> float:
    """The shortest of ``repeat`` :func:`~common.samples` of a call."""
    return min(samples(function, repeat))


def parts(rows: int, repeat: int) -> dict[str, float]:
    """The parts' times for a ``rows`` x 32 float32 array."""
    data = np.random.default_rng(0).standard_normal((rows, 32)).astype(np.float32)
    sample = HashSample.empty(32)
    bound = max(RowSketch().cut(rows) << (64 - HASH_BITS), sample.cut(rows))
    found = column_moments(data, hash_below=bound)
    order = np.argsort(found.hashes)
    hashes, at = found.hashes[order], found.rows[order]
    taken = len(hashes) if sample.cut(rows) >= 2**64 else int(np.sum(hashes < sample.cut(rows)))

    def referenced() -> None:
        lock = nl.fit(data)
        for feature in lock.features:
            feature.reference.get("quantiles")

    return {
        "moments": best(lambda: column_moments(data), repeat),
        "moments + row hashes": best(lambda: column_moments(data, hash_below=bound), repeat),
        "sort of the hashes kept": best(
            lambda: sort_pairs(found.hashes.copy(), found.rows.copy()), repeat
        ),
        "row sample update": best(
            lambda: sample.update(hashes[:taken], at[:taken], data, [], sample.cut(rows)), repeat
        ),
        "whole fit": best(lambda: nl.fit(data), repeat),
        "fit + reference quantiles": best(referenced, repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    warnings.simplefilter("ignore", nl.NormlockWarning)
    found = {rows: parts(rows, args.repeat) for rows in sizes}
    print("| part | " + " | ".join(f"{rows:,} x 32 float32" for rows in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for name in found[sizes[0]]:
        cells = " | ".join(f"{found[rows][name] * 1e3:.1f} ms" for rows in sizes)
        print(f"| {name} | {cells} |")


if __name__ == "__main__":
    main()
