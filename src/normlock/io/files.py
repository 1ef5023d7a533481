"""Reading data files as streams of Arrow record batches, and writing them back.

Formats are chosen by extension: ``.parquet``/``.pq``, ``.csv`` (optionally ``.gz``),
``.arrow``/``.feather``/``.ipc``. A path may be a glob or a directory (all supported
files inside, sorted). Reads stream record batches, so memory stays flat; writes go
to a temporary file renamed into place only when complete.
"""

from __future__ import annotations

import csv as _csv
import functools
import glob as _glob
import gzip
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

from normlock.artifact import temporary_beside
from normlock.errors import InputError, Origin

BATCH_ROWS = 65_536
"""Rows per batch for CSV blocks and as the floor for Parquet."""
BATCH_VALUES = 1 << 22
"""Values per Parquet batch (32 MB of float64): pyarrow decodes pages several times slower
in small batches, and larger ones only add memory."""
PARQUET_READ_BUFFER = 1 << 20
"""Bytes of a Parquet column chunk read at a time: without a bound, pyarrow holds every
compressed column chunk of a row group in memory while it decodes (for incompressible
float64, as much again as the decoded row group)."""
PREFETCH = 1
"""Batches decoded ahead on a background thread while the caller works on the current one."""
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz")
_ARROW = (".arrow", ".feather", ".ipc")
SUPPORTED = _PARQUET + _CSV + _ARROW


def _kind(path: Path) -> str:
    name = path.name.lower()
    for kind, suffixes in (("parquet", _PARQUET), ("csv", _CSV), ("arrow", _ARROW)):
        if name.endswith(suffixes):
            return kind
    raise InputError(f"{str(path)!r}: unknown file type; use one of {', '.join(SUPPORTED)}")


def expand(patterns: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The files named by paths, globs and directories, in a stable order."""
    found: list[Path] = []
    for pattern in patterns:
        text = str(pattern)
        path = Path(text)
        if path.is_dir():
            matches = sorted(p for p in path.iterdir() if p.name.lower().endswith(SUPPORTED))
            if not matches:
                raise InputError(f"directory {text!r} holds no {', '.join(SUPPORTED)} file")
        elif _glob.has_magic(text):
            matches = sorted(Path(p) for p in _glob.glob(text, recursive=True) if Path(p).is_file())
            if not matches:
                raise InputError(f"the pattern {text!r} matches no file")
        elif path.is_file():
            matches = [path]
        else:
            raise InputError(f"file {text!r} does not exist")
        found.extend(matches)
    return found


def iter_batches(path: Path, columns: Sequence[str] | None = None) -> Iterator[Any]:
    """Record batches of one file, only ``columns`` when given (projection pushdown)."""
    import pyarrow as pa

    kind = _kind(path)
    readers = {"parquet": _parquet_batches, "csv": _csv_batches, "arrow": _arrow_batches}
    try:
        yield from readers[kind](path, columns)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc}") from None


def _parquet_batches(path: Path, columns: Sequence[str] | None) -> Iterator[Any]:
    import pyarrow.parquet as pq

    # pre-buffering would read a whole row group ahead
    with pq.ParquetFile(path, pre_buffer=False, buffer_size=PARQUET_READ_BUFFER) as handle:
        _check_columns(path, handle.schema_arrow.names, columns)
        width = len(columns) if columns else len(handle.schema_arrow.names)
        rows = max(BATCH_ROWS, BATCH_VALUES // max(1, width))
        batches = handle.iter_batches(batch_size=rows, columns=list(columns) if columns else None)
        yield from _prefetched(batches)


def _prefetched(batches: Iterator[Any]) -> Iterator[Any]:
    """``batches``, read ahead on a thread (decoding releases the GIL), errors re-raised."""
    import queue
    import threading

    ahead: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=PREFETCH)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                ahead.put(("batch", batch))
            ahead.put(("end", None))
        except BaseException as exc:  # handed to the consumer
            ahead.put(("error", exc))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            kind, item = ahead.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                ahead.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.01)


def _csv_batches(path: Path, columns: Sequence[str] | None) -> Iterator[Any]:
    from pyarrow import csv

    read_options = csv.ReadOptions(block_size=1 << 22)
    if columns:  # name a missing column with hints, not with Arrow's message
        _check_columns(path, csv.open_csv(path, read_options=read_options).schema.names, columns)
    convert = csv.ConvertOptions(include_columns=list(columns) if columns else None)
    yield from csv.open_csv(path, convert_options=convert, read_options=read_options)


def _arrow_batches(path: Path, columns: Sequence[str] | None) -> Iterator[Any]:
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        try:
            reader = pa.ipc.open_file(source)
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
            names = reader.schema.names
        except pa.ArrowInvalid:
            source.seek(0)
            stream = pa.ipc.open_stream(source)
            batches, names = iter(stream), stream.schema.names
        _check_columns(path, names, columns)
        for batch in batches:
            yield batch.select(list(columns)) if columns else batch


def _check_columns(path: Path, names: Sequence[str], columns: Sequence[str] | None) -> None:
    if columns:
        from normlock.errors import ColumnNotFoundError

        missing = [c for c in columns if c not in names]
        if missing:
            raise ColumnNotFoundError.from_missing(missing, names, where=f"file {str(path)!r}")


class SourcedBatch(NamedTuple):
    """A record batch with the file it came from and its first row in that file."""

    batch: Any
    path: str
    first_row: int

    @property
    def num_rows(self) -> int:
        """Rows in the batch."""
        return int(self.batch.num_rows)

    @property
    def origin(self) -> Origin:
        """Where the batch's rows are, for errors: lines of a CSV file, rows of others."""
        text = _kind(Path(self.path)) == "csv"
        return Origin(
            self.path, self.first_row, functools.partial(csv_line, self.path) if text else None
        )


def csv_line(path: str | os.PathLike[str], row: int) -> int:
    """The line, counted from 1 as an editor counts them, on which data row ``row``
    (counted from 0) of a CSV file starts.

    The file is read again up to that row with Python's CSV parser (called only to word
    an error): the header is the first record; empty lines are skipped, as the reader
    skips them; a quoted value that spans lines counts all of its lines. Gzipped files
    are read through gzip. A row past the end gives the line after the last.
    """
    opener: Any = gzip.open if str(path).lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        reader = _csv.reader(handle)
        records, start = -1, 1  # the header is record -1
        for record in reader:
            if record:
                if records == row:
                    return start
                records += 1
            start = reader.line_num + 1
    return start


def batch_source(
    paths: Sequence[Path], columns: Sequence[str] | None = None, *, sourced: bool = False
) -> Callable[[], Iterator[Any]]:
    """A factory of fresh iterators over the record batches of every file, in order.

    With ``sourced`` each batch comes as a :class:`SourcedBatch` that names its file and
    first row, which ``normlock.fit`` and the CLI use to name them in errors.
    """

    def batches() -> Iterator[Any]:
        for path in paths:
            first_row = 0
            for batch in iter_batches(path, columns):
                yield SourcedBatch(batch, str(path), first_row) if sourced else batch
                first_row += batch.num_rows

    return batches


def total_rows(paths: Sequence[Path]) -> int | None:
    """Rows in all files when their metadata says (Parquet, Arrow files), else None."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = 0
    for path in paths:
        kind = _kind(path)
        try:
            if kind == "parquet":
                total += pq.read_metadata(path).num_rows
            elif kind == "arrow":
                with pa.memory_map(str(path)) as source:
                    reader = pa.ipc.open_file(source)
                    total += sum(
                        reader.get_batch(i).num_rows for i in range(reader.num_record_batches)
                    )
            else:
                return None
        except (OSError, pa.ArrowException):
            return None
    return total


@contextmanager
def batch_writer(path: str | os.PathLike[str]) -> Iterator[Callable[[Any], None]]:
    """A ``write(batch)`` function for a Parquet, CSV or Arrow file; the file appears at
    ``path`` only if the block completes."""
    import pyarrow as pa

    target = Path(path)
    kind = _kind(target)
    handle, temporary = temporary_beside(target)
    os.close(handle)
    writer: Any = None

    def write(batch: Any) -> None:
        nonlocal writer
        if writer is None:
            writer = _open_writer(kind, temporary, batch.schema)
        if kind == "parquet":
            writer.write_batch(batch)
        else:
            writer.write(batch)

    try:
        yield write
        if writer is None:
            raise InputError("no rows to write: the input had no record batch")
        writer.close()
        writer = None
        with open(temporary, "rb") as done:  # on disk before it takes the final name
            os.fsync(done.fileno())
        os.replace(temporary, target)
    finally:
        if writer is not None:
            with suppress(OSError, pa.ArrowException):
                writer.close()
        Path(temporary).unlink(missing_ok=True)


def _open_writer(kind: str, path: str, schema: Any) -> Any:
    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        # dictionaries for the other columns only: a column of normalized floats has few
        # repeated values, and trying to build one costs several times the whole write
        keep = [f.name for f in schema if not pa.types.is_floating(f.type)]
        return pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=keep)
    if kind == "csv":
        from pyarrow import csv

        return csv.CSVWriter(path, schema)
    import pyarrow as pa

    return pa.ipc.new_file(path, schema)
