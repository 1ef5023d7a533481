"""What every command shares: the app, exit codes, error handling, consoles, progress."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

import typer

from normlock.errors import NormlockError

app = typer.Typer(
    name="normlock",
    help="Fit normalization once, lock it, apply the same bits everywhere.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_OK, EXIT_FINDING, EXIT_USAGE = 0, 1, 2
_state = {"verbose": False}
F = TypeVar("F", bound=Callable[..., Any])

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]


def console(stderr: bool = False) -> Any:
    """A rich console on stdout (or stderr)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print an error line to stderr and exit with ``code``."""
    console(stderr=True).print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def guarded(function: F) -> F:
    """Turn library errors into a one-line message and exit code 2 (traceback with -v)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (NormlockError, OSError) as exc:
            if _state["verbose"]:
                raise
            fail(str(exc) if isinstance(exc, NormlockError) else f"{exc.__class__.__name__}: {exc}")

    return wrapper  # type: ignore[return-value]


@app.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
) -> None:
    """Options shared by every command."""
    _state["verbose"] = verbose


def progress(
    enabled: bool, label: str, batches: Iterator[Any], total: int | None = None, size: int = 0
) -> Iterator[Any]:
    """Yield ``batches``, showing rows, rate and ETA on a terminal unless disabled.

    ``total`` is the number of rows when known; ``size`` the bytes to read.
    """
    if not enabled or not sys.stderr.isatty():
        yield from batches
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    described = f"{label} {size / 1e6:,.0f} MB" if size else label
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows {task.speed:,.0f}/s" if total else "rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(described, total=total)
        for batch in batches:
            yield batch
            bar.advance(task, batch.num_rows)


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


EngineOption = Annotated[
    str,
    typer.Option(
        "--engine", help="Where to run: local (this process), dask or spark (Parquet/CSV files)."
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address, with --engine dask (default: local threads)."),
]
MasterOption = Annotated[
    str | None,
    typer.Option(
        help="Spark master URL, with --engine spark (default: the active session, else local[*]).",
    ),
]


def engine_address(engine: str, scheduler: str | None, master: str | None) -> str | None:
    """The address for ``engine`` (``--scheduler`` for dask, ``--master`` for spark), or an
    exit with a usage error when the options do not go together."""
    if engine not in ("local", "dask", "spark"):
        fail(f"--engine must be local, dask or spark, got {engine!r}")
    if scheduler is not None and engine != "dask":
        fail("--scheduler goes with --engine dask")
    if master is not None and engine != "spark":
        fail("--master goes with --engine spark")
    return scheduler if engine == "dask" else master


def read_table(paths: list[str]) -> Any:
    """The rows of Parquet, CSV or Arrow files (globs and folders too) as one Arrow table."""
    import pyarrow as pa

    from normlock.errors import InputError
    from normlock.io.files import batch_source, expand

    batches = list(batch_source(expand(paths))())
    if not batches:
        raise InputError(f"no rows in {', '.join(paths)}")
    return pa.Table.from_batches(batches)
