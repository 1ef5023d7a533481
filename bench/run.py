"""normlock benchmarks against their anchors, measured in the same run.

Usage:
    python bench/run.py [--sizes N,N,...|--quick] [--repeat N] [--only TEXT]
                        [--parquet] [--large] [--all] [--avx2]
                        [--markdown OUT.md] [--json OUT.json] [--plot OUT.png]

Examples:
    python bench/run.py --markdown bench.md --json bench.json --plot bench.png
    python bench/run.py --quick --repeat 2            # 10k and 100k rows: a few minutes
    python bench/run.py --sizes 1000000 --only polars # one container at one size
    python bench/run.py --avx2 --plot avx2.png        # as on a CPU without AVX-512

The size curve (bench/curve.py): fit and transform at 10k, 100k, 1M and 10M rows x 32
float columns (``--sizes``; ``--quick`` for 10k and 100k) on numpy float32 and float64
matrices, a pandas frame, a Polars frame and a pyarrow Table, each against its anchor
(scikit-learn, Polars, pyarrow.compute) on the same data. ``--only TEXT`` keeps the curve's
cases whose name and container contain TEXT (e.g. ``robust``, ``polars``, ``fit standard
numpy float32``) and leaves out the cases off the curve. The data is generated once per
size (seeded) and converted to one container at a time. Times are medians of ``--repeat``
samples (at most 3 above 1M rows), after one warm-up; a sample repeats a short call until
it lasts about 10 ms. scikit-learn's RobustScaler is not run above 1M rows: it takes
minutes there. "fit + save" times a fit and the lock's save, since a lock computes its
reference quantiles when first read. The peak memory growth of a numpy float32 fit,
standard and robust, is measured at each size in a fresh process (bench/memory.py).

Off the curve (bench/extras.py): one-row transforms and the quantile sample's update rate;
``--parquet`` adds a 10M x 32 Parquet fit against Polars, ``--large`` the CLI fit + apply
of a 5.8 GB Parquet file with their peak memory (both write their files under bench/data/
first), ``--all`` both.

Every row says whether it met its target; rows without one are informational. The report
(bench/report.py) is markdown on stdout (and ``--markdown``), with the CPU, its AVX2 /
AVX-512 flags, the kernel path and numpy's SIMD targets in its header; ``--json`` writes
the rows, ``--plot`` draws ns per row against rows, log-log (matplotlib: install the
``bench`` extra, ``pip install -e ".[bench]"``).

``--avx2`` measures as on a CPU without AVX-512: the script runs again with
``NORMLOCK_KERNEL=avx2`` (normlock's kernel keeps to its AVX2 path) and
``NPY_DISABLE_CPU_FEATURES`` naming every AVX-512 target of numpy's dispatch, so that numpy,
and the anchors built on it, leave AVX-512 too. numpy 2.4 calls its AVX-512 level
``X86_V4`` and ignores the older names (``AVX512F``, ``AVX512_SKX``, ...) with a silent
ImportWarning; the list holds both, and the header shows which targets stayed on.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

from common import MemoryRow, Row
from curve import run_curve
from extras import large_case, one_row_cases, parquet_cases, sketch_cases
from memory import fit_memory
from report import machine, markdown, plot

SIZES = "10000,100000,1000000,10000000"
QUICK = "10000,100000"
AVX2 = {
    "NORMLOCK_KERNEL": "avx2",
    "NPY_DISABLE_CPU_FEATURES": "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL "
    "AVX512_ICL AVX512_SPR X86_V4",
}


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=SIZES, help=f"rows of the curve (default {SIZES})")
    parser.add_argument("--quick", action="store_true", help=f"the curve at {QUICK} only")
    parser.add_argument("--repeat", type=int, default=5, help="samples per time (default 5)")
    parser.add_argument("--only", default="", help="curve cases whose name contains this")
    parser.add_argument("--parquet", action="store_true", help="also the Parquet fit")
    parser.add_argument("--large", action="store_true", help="also the 5.8 GB file (slow)")
    parser.add_argument("--all", action="store_true", help="--parquet and --large")
    parser.add_argument("--avx2", action="store_true", help="measure without AVX-512")
    parser.add_argument("--markdown", type=Path, help="write the report here too")
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    parser.add_argument("--plot", type=Path, help="draw the curve into this PNG")
    return parser.parse_args()


def without_avx512() -> None:
    """Run this script again, as it was called, without AVX-512 (unless this is that run)."""
    if all(os.environ.get(name) == value for name, value in AVX2.items()):
        return
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **AVX2})


def measure(args: argparse.Namespace) -> tuple[list[Row], list[MemoryRow]]:
    sizes = [int(size) for size in (QUICK if args.quick else args.sizes).split(",")]
    rows = run_curve(sizes, args.repeat, args.only)
    memory = fit_memory(sizes, args.only)
    if not args.only:
        rows += one_row_cases(args.repeat) + sketch_cases(args.repeat)
    if args.parquet or args.all:
        rows += parquet_cases(max(1, args.repeat // 2))
    if args.large or args.all:
        memory += large_case()
    return rows, memory


def main() -> None:
    args = options()
    if args.avx2:
        without_avx512()
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        raise SystemExit('--plot needs matplotlib: pip install -e ".[bench]"')
    warnings.simplefilter("ignore")
    rows, memory = measure(args)
    info = machine()
    text = markdown(info, rows, memory)
    print(text, end="")
    if args.markdown:
        args.markdown.write_text(text)
    if args.json:
        document = {
            "machine": info,
            "rows": [asdict(r) for r in rows],
            "memory": [asdict(m) for m in memory],
        }
        args.json.write_text(json.dumps(document, indent=2))
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
