"""normlock's fit on Spark and Dask against each engine's own mean/std fit.

* Spark ``local[2]``, a cached rows x 32 float64 DataFrame: ``normlock.spark.fit`` against
  ``VectorAssembler`` + ``StandardScaler(withMean=True).fit``;
* Dask ``LocalCluster`` of 2 single-threaded workers, the same rows as a Parquet dataset:
  ``normlock.dask.fit`` against ``ddf.mean()`` + ``ddf.std()`` in one compute; and
  ``normlock.dask.fit`` on 1 worker, for the speed-up from 1 to 2 workers.

normlock computes more than either anchor (exact moments, extrema, the row sketch and the
sample of rows behind the reference quantiles), and its lock is the same bits whatever
the partitioning. Usage::

    python bench/engines.py --rows 1000000          # writes bench/data/engines-<rows>/
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from common import median_time

COLUMNS = 32
FILES = 8


def dataset(rows: int, folder: Path) -> Path:
    """``rows`` x 32 standard-normal float64 columns in ``FILES`` Parquet files (kept)."""
    target = folder / f"engines-{rows}"
    if target.is_dir() and len(list(target.glob("*.parquet"))) == FILES:
        return target
    target.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, part in enumerate(np.array_split(np.arange(rows), FILES)):
        block = rng.normal(size=(len(part), COLUMNS)) * 10 + 100
        table = pa.table({f"x{j}": block[:, j] for j in range(COLUMNS)})
        pq.write_table(table, target / f"part-{i}.parquet")
    return target


def spark_case(folder: Path, repeats: int) -> dict[str, float]:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.ml.feature import StandardScaler, VectorAssembler
    from pyspark.sql import SparkSession

    import normlock.spark as nls

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("normlock-bench")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "4g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        df = spark.read.parquet(str(folder)).cache()
        df.count()
        columns = df.columns
        assembled = VectorAssembler(inputCols=columns, outputCol="features").transform(df)
        scaler = StandardScaler(inputCol="features", outputCol="scaled", withMean=True)
        return {
            "normlock.spark.fit": median_time(lambda: nls.fit(df), repeats),
            "StandardScaler.fit": median_time(lambda: scaler.fit(assembled), repeats),
        }
    finally:
        spark.stop()


def dask_case(folder: Path, workers: int, repeats: int, anchor: bool) -> dict[str, float]:
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import normlock.dask as nld

    found = {}
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        ddf = dd.read_parquet(str(folder))
        found[f"normlock.dask.fit ({workers} workers)"] = median_time(lambda: nld.fit(ddf), repeats)
        if anchor:
            found[f"ddf.mean() + ddf.std() ({workers} workers)"] = median_time(
                lambda: dask.compute(ddf.mean(), ddf.std()), repeats
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--only", choices=["spark", "dask"], default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore", FutureWarning)
    folder = dataset(args.rows, args.data)
    results: dict[str, float] = {}
    if args.only in (None, "spark"):
        results |= spark_case(folder, args.repeats)
    if args.only in (None, "dask"):
        results |= dask_case(folder, 2, args.repeats, anchor=True)
        results |= dask_case(folder, 1, args.repeats, anchor=False)
    print(f"{args.rows:,} rows x {COLUMNS} float64, median of {args.repeats}")
    for case, seconds in results.items():
        print(f"  {case:<42} {seconds:8.3f} s")
    one, two = (results.get(f"normlock.dask.fit ({n} workers)") for n in (1, 2))
    if one and two:
        print(f"  normlock.dask.fit speed-up, 1 -> 2 workers: {one / two:.2f}x")


if __name__ == "__main__":
    main()
