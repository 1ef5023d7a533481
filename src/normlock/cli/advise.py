"""``normlock advise``: measure a table, recommend a spec, write it and a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from normlock.cli.common import EXIT_OK, JsonOption, app, console, fail, guarded


@app.command()
@guarded
def advise(
    data: Annotated[list[str], typer.Argument(help="Data files, globs or directories.")],
    target: Annotated[str | None, typer.Option(help="Name of the target column.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the recommended spec (YAML).")
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report.")] = None,
    max_rows: Annotated[int, typer.Option(help="Rows to read at most.")] = 1_000_000,
    as_json: JsonOption = False,
) -> None:
    """Measure every column (range, skew, tails, outliers, kinds of values), recommend a
    method with its reason and the alternatives it rejected, and show the conditioning of
    a linear model and the float16/bfloat16/float32 precision risks before and after.

    The spec it writes fits as it is: normlock fit DATA --spec spec.yaml.

    Examples:

        normlock advise train.parquet --target price -o spec.yaml

        normlock advise 'data/*.csv' --html advice.html --json
    """
    from normlock.advise.advisor import advise as advise_table
    from normlock.advise.files import read_table
    from normlock.io.files import expand

    if max_rows < 1:
        fail(f"--max-rows must be at least 1, got {max_rows}")
    paths = expand(data)
    columns, truncated = read_table(paths, max_rows)
    source = ", ".join(str(p) for p in paths[:3]) + (", ..." if len(paths) > 3 else "")
    advice = advise_table(columns, target=target, source=source)
    if output is not None:
        from normlock.artifact import write_atomic

        write_atomic(output, advice.spec_yaml())
    if html is not None:
        from normlock.advise.html import write_html

        write_html(advice, html)
    if as_json:
        typer.echo(json.dumps(advice.to_dict(), indent=2, allow_nan=False, ensure_ascii=False))
    else:
        out = console()
        out.print(advice.table())
        if truncated:
            out.print(f"[yellow]read the first {max_rows:,} rows only (--max-rows)[/]")
        if output is not None:
            out.print(f"spec -> {output}  (normlock fit DATA --spec {output})")
        if html is not None:
            out.print(f"report -> {html}")
    raise typer.Exit(EXIT_OK)
