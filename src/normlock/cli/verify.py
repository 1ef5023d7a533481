"""``normlock verify``: does a serving step reproduce the lock?"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from normlock.cli.common import (
    EXIT_FINDING,
    EXIT_OK,
    JsonOption,
    app,
    console,
    guarded,
    read_table,
)


@app.command()
@guarded
def verify(
    lock_file: Annotated[Path, typer.Argument(help="The lock file.")],
    against: Annotated[
        str,
        typer.Option(
            "--against",
            "-a",
            help="The serving step: a .onnx, .skops, .pt/.pt2 file, or module:function "
            "(or path/to/file.py:function).",
        ),
    ],
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            help="Extra rows to compare on (Parquet, CSV or Arrow file; a domain lock's files).",
        ),
    ] = None,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact", help="Require the lock's outputs bit for bit (rounding differences fail)."
        ),
    ] = False,
    ulps: Annotated[
        int | None,
        typer.Option(
            help="Allow a flat difference of N ulps of max(|expected|, 1) instead of the "
            "rounding bound."
        ),
    ] = None,
    feed: Annotated[
        str, typer.Option(help="How a function gets the rows: matrix or columns (a dict).")
    ] = "matrix",
    trust_pickle: Annotated[
        bool, typer.Option(help="Allow .pkl/.joblib targets (loading them runs their code).")
    ] = False,
    trust_type: Annotated[
        list[str] | None, typer.Option(help="A type a .skops file may contain (repeatable).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the lock's probes (and --data) through a serving step; exit 1 on a mismatch.

    Exit 0 when the outputs are the lock's bits, or differ only by rounding (parameters
    a few ulps off, another operation order: "equivalent up to rounding", which fails
    with --exact). Reports per feature the max absolute error, the ulp distance and the
    share of the rounding bound, and names the likely cause of a mismatch: sample vs
    population std, parameters from other data, swapped columns, 0-255 vs 0-1 inputs,
    normalization applied twice or not at all, float32/float16/bfloat16.

    Examples:

        normlock verify model.normlock.json --against serving.onnx

        normlock verify model.normlock.json --against serving/features.py:normalize

        normlock verify model.normlock.json --against scaler.skops --data sample.parquet --json

        normlock verify model.normlock.json --against serving.onnx --exact

        normlock verify images.normlock.json --against preprocess.py:normalize --data val/
    """
    from normlock.domains.base import DomainLock
    from normlock.lock import load
    from normlock.verify.parity import verify as run_verify

    if os.getcwd() not in sys.path:  # so that module:function finds the user's modules
        sys.path.insert(0, os.getcwd())
    lock = load(lock_file)
    if isinstance(lock, DomainLock):  # fed the domain's arrays; --data: its files
        report = lock.verify(against, data or None, exact=exact, ulps=ulps)
    else:
        report = run_verify(
            lock,
            against,
            read_table(data) if data else None,
            exact=exact,
            ulps=ulps,
            feed=feed,
            trust_pickle=trust_pickle,
            trusted_types=trust_type or (),
        )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        _render(report)
    raise typer.Exit(EXIT_OK if report.passed else EXIT_FINDING)


_STATUS = {"identical": "[green]identical[/]", "equivalent": "[yellow]rounding[/]"}


def _render(report: Any) -> None:
    from rich.table import Table

    out = console()
    table = Table(show_lines=False)
    for header in ("feature", "run", "max abs error", "max ulp", "of bound", "result"):
        table.add_column(header)
    for r in report.results:
        verdict = _STATUS.get(r.status) or f"[red]{r.cause.kind}[/]"
        table.add_row(
            r.feature,
            r.run,
            f"{r.max_abs_error:.3g}",
            f"{r.max_ulp:.3g}",
            f"{r.rounding_share:.2g}",
            verdict,
        )
    out.print(table)
    for feature, messages in report.causes().items():
        for message in messages:
            out.print(f"[bold]{feature}[/]: {message}", soft_wrap=True)
    for note in report.notes:
        out.print(f"[dim]note: {note}[/]", soft_wrap=True)
    if report.passed:
        out.print(f"[bold green]{report.headline()}[/]", soft_wrap=True)
        if not report.identical and report.results[0].tolerance.kind == "rounding":
            out.print("[dim]--exact requires the lock's bits and would fail it[/]")
    else:
        out.print(
            f"[bold red]MISMATCH: {report.target} does not reproduce the lock[/]", soft_wrap=True
        )
