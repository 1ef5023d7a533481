"""Files on an engine: what ``normlock fit``, ``apply`` and ``monitor`` run with ``--engine``.

Parquet and CSV files are read by the engine (``dask.dataframe.read_parquet``,
``spark.read.parquet``, and their CSV readers), fitted, normalized or profiled there.
Dask connects to ``address`` (a scheduler) or runs on local threads; Spark uses the active
session, else starts one on ``address`` (a master URL, ``local[*]`` by default) whose
workers run this interpreter, and stops it at the end.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from normlock.errors import InputError
from normlock.io.files import _kind, expand, total_rows
from normlock.lock import Lock
from normlock.profile import Profile, Stage

Engine = Literal["dask", "spark"]
ENGINES = ("dask", "spark")


@contextmanager
def engine_session(engine: Engine, address: str | None) -> Iterator[Any]:
    """The Spark session, or the Dask client (None: Dask's local threads), to work in."""
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine == "dask":
        if address is None:
            yield None
            return
        from distributed import Client

        with Client(address) as client:
            yield client
        return
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master(address or "local[*]")
        .appName("normlock")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()


def read_files(
    engine: Engine, session: Any, paths: Sequence[Path], columns: Sequence[str] | None = None
) -> Any:
    """The files as one Dask or Spark DataFrame (Parquet or CSV, one kind), ``columns``
    only when given."""
    kinds = {_kind(p) for p in paths}
    if len(kinds) != 1 or kinds & {"arrow"}:
        raise InputError(
            f"--engine reads Parquet or CSV files of one kind, got {sorted(kinds)}; convert "
            "the files, or fit locally"
        )
    (kind,) = kinds
    names = [str(p) for p in paths]
    if engine == "dask":
        import dask.dataframe as dd

        if kind == "parquet":
            return dd.read_parquet(names, columns=None if columns is None else list(columns))
        frame = dd.read_csv(names)
        return frame if columns is None else frame[list(columns)]
    reader = session.read
    frame = (
        reader.parquet(*names)
        if kind == "parquet"
        else reader.csv(names, header=True, inferSchema=True)
    )
    return frame if columns is None else frame.select(*columns)


def fit_files(paths: Sequence[Path], engine: Engine, address: str | None, **options: Any) -> Lock:
    """A lock fitted by ``engine`` on the files (``options`` as for the engine's ``fit``)."""
    with engine_session(engine, address) as session:
        frame = read_files(engine, session, paths)
        lock = _module(engine).fit(frame, **options)
    return replace(lock, provenance={**lock.provenance, "sources": [str(p) for p in paths]})


def apply_files(
    lock: Lock,
    paths: Sequence[Path],
    output: Path,
    engine: Engine,
    address: str | None,
    *,
    keep_extra: bool = False,
) -> int:
    """Normalize the files with ``lock`` on ``engine`` into ``output``, a directory of
    Parquet part files that appears (replacing any old one) only once complete; the rows
    written."""
    temporary = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    columns = None if keep_extra else list(lock.columns)
    extra = "keep" if keep_extra else "error"
    with engine_session(engine, address) as session:
        frame = read_files(engine, session, paths, columns)
        normalized = _module(engine).transform(lock, frame, extra=extra)
        try:
            if engine == "dask":
                normalized.to_parquet(str(temporary), write_index=False)
            else:
                _spark_write(normalized, temporary)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
    if output.is_dir():
        shutil.rmtree(output)
    elif output.exists():
        output.unlink()
    temporary.rename(output)
    return total_rows(expand([output])) or 0


def profile_files(
    lock: Lock, paths: Sequence[Path], engine: Engine, address: str | None, stage: Stage
) -> Profile:
    """The merged profile of the files for ``lock`` at ``stage``, computed by ``engine``."""
    with engine_session(engine, address) as session:
        frame = read_files(engine, session, paths, list(lock.feature_names))
        return _module(engine).profile(lock, frame, stage)


def _spark_write(frame: Any, path: Path) -> None:
    from pyspark.errors import PythonException

    from normlock.engines.spark import raised_in_worker

    try:
        frame.write.parquet(str(path))
    except PythonException as exc:
        found = raised_in_worker(exc)
        if found is None:
            raise
        raise found from None


def _module(engine: Engine) -> Any:
    if engine == "dask":
        from normlock.engines import dask

        return dask
    from normlock.engines import spark

    return spark
