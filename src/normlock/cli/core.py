"""Core commands: fit, apply, show, diff, demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from normlock.cli.common import (
    EXIT_FINDING,
    EXIT_OK,
    EngineOption,
    JsonOption,
    MasterOption,
    Quiet,
    SchedulerOption,
    app,
    console,
    engine_address,
    fail,
    guarded,
    progress,
)


@app.command()
@guarded
def fit(
    data: Annotated[list[str], typer.Argument(help="Training files, globs or directories.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Lock file to write.")],
    spec: Annotated[Path | None, typer.Option("--spec", "-s", help="YAML/JSON spec file.")] = None,
    target: Annotated[str | None, typer.Option(help="Name of the target column.")] = None,
    default: Annotated[str | None, typer.Option(help="Method for unnamed columns.")] = None,
    exact_limit: Annotated[
        int | None,
        typer.Option(help="Values a robust/quantile/clip/power feature keeps for exact quantiles."),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name to tie the lock to.")] = None,
    model_version: Annotated[str | None, typer.Option(help="Model version.")] = None,
    domain: Annotated[
        str | None,
        typer.Option(help="Fit a domain lock: images, series, audio or boxes (normlock.domains)."),
    ] = None,
    setting: Annotated[
        list[str] | None,
        typer.Option("--set", help="A domain setting KEY=VALUE (repeatable), e.g. layout=NHWC."),
    ] = None,
    engine: EngineOption = "local",
    scheduler: SchedulerOption = None,
    master: MasterOption = None,
    quiet: Quiet = False,
) -> None:
    """Fit a lock on training data (training split only!).

    With --engine dask or spark the engine reads and fits the files, partition by
    partition: the same lock as a local fit. With --domain, the files are the domain's
    (a folder of images, Parquet files of series, ...) and --set gives its settings.

    Examples:

        normlock fit train.parquet --spec spec.yaml -o model.normlock.json

        normlock fit 'data/train-*.parquet' --target price -o model.normlock.json

        normlock fit 'data/*.parquet' --engine spark -o model.normlock.json

        normlock fit --domain images ./train_images/ --set max_value=255 -o images.normlock.json
    """
    from normlock.io.files import expand
    from normlock.stats import DEFAULT_EXACT_LIMIT

    address = engine_address(engine, scheduler, master)
    if domain is not None or setting:
        _fit_domain(domain, data, setting or [], output, model, model_version, engine)
        return
    paths = expand(data)
    options = {
        "default": default,
        "target": target,
        "exact_limit": exact_limit or DEFAULT_EXACT_LIMIT,
    }
    if engine == "local":
        from normlock.fitting import fit as fit_lock
        from normlock.io.files import batch_source, total_rows

        source = batch_source(paths, sourced=True)
        total, size = total_rows(paths), sum(p.stat().st_size for p in paths)
        lock = fit_lock(
            lambda: progress(not quiet, "fitting", source(), total, size),
            spec,
            sources=[str(p) for p in paths],
            **options,  # type: ignore[arg-type]
        )
    else:
        from normlock.engines.files import fit_files

        lock = fit_files(paths, engine, address, spec=spec, **options)  # type: ignore[arg-type]
    if model:
        lock = lock.with_model(model, model_version)
    lock.save(output)
    out = console()
    out.print(
        f"locked {len(lock.features)} feature(s) from {lock.provenance['rows']:,} rows "
        f"-> {output}  fingerprint {lock.fingerprint[:16]}"
    )
    for name, found in lock.warnings.items():
        for message in found:
            out.print(f"[yellow]warning[/] {name}: {message}")
    for group in lock.groups:
        for message in group.warnings:
            out.print(f"[yellow]warning[/] group {group.name}: {message}")


def _fit_domain(
    domain: str | None,
    data: list[str],
    setting: list[str],
    output: Path,
    model: str | None,
    model_version: str | None,
    engine: str,
) -> None:
    from normlock.cli.domains import fit_domain, parse_settings

    if domain is None:
        fail("--set gives a domain's settings: add --domain")
    if engine != "local":
        fail("--domain fits run with --engine local")
    lock = fit_domain(domain, data, parse_settings(setting))  # type: ignore[arg-type]
    if model:
        lock = lock.with_model(model, model_version)
    lock.save(output)
    out = console()
    fitted_on = lock.fitted_on()  # type: ignore[attr-defined]
    out.print(
        f"locked {domain} ({len(lock.features)} feature(s)) from {fitted_on} -> {output}  "
        f"fingerprint {lock.fingerprint[:16]}"
    )
    for name, found in lock.warnings.items():
        for message in found:
            out.print(f"[yellow]warning[/] {name}: {message}")


@app.command()
@guarded
def apply(
    lock_file: Annotated[Path, typer.Argument(help="The lock file.")],
    data: Annotated[list[str], typer.Argument(help="Input files, globs or directories.")],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Output file (.parquet/.csv/.arrow); a directory with --engine dask/spark.",
        ),
    ],
    inverse: Annotated[bool, typer.Option(help="Apply the inverse transform.")] = False,
    keep_extra: Annotated[bool, typer.Option(help="Carry unknown columns through.")] = False,
    engine: EngineOption = "local",
    scheduler: SchedulerOption = None,
    master: MasterOption = None,
    quiet: Quiet = False,
) -> None:
    """Transform files with a lock, streaming; the output appears only when complete.

    Only the lock's columns are read and written, unless --keep-extra. With --engine
    dask or spark the output is a directory of Parquet part files.

    Examples:

        normlock apply model.normlock.json serving.parquet -o normalized.parquet

        normlock apply model.normlock.json 'logs/*.parquet' --engine dask -o normalized/
    """
    from normlock.io.files import batch_source, batch_writer, expand, total_rows
    from normlock.lock import load

    address = engine_address(engine, scheduler, master)
    lock = load(lock_file)
    paths = expand(data)
    if engine != "local":
        from normlock.engines.files import apply_files

        if inverse:
            fail("--inverse runs with --engine local only")
        written = apply_files(lock, paths, output, engine, address, keep_extra=keep_extra)  # type: ignore[arg-type]
        console().print(f"wrote {written:,} rows -> {output}")
        return
    columns = None if keep_extra else list(lock.columns)  # projection: read only what is used
    run = lock.inverse_transform if inverse else lock.transform
    total, size = total_rows(paths), sum(p.stat().st_size for p in paths)
    rows = 0
    with batch_writer(output) as write:
        for item in progress(
            not quiet, "applying", batch_source(paths, columns, sourced=True)(), total, size
        ):
            write(run(item.batch, extra="keep" if keep_extra else "error", origin=item.origin))
            rows += item.num_rows
    console().print(f"wrote {rows:,} rows -> {output}")


@app.command()
@guarded
def show(
    lock_file: Annotated[Path, typer.Argument(help="The lock file.")],
    as_json: JsonOption = False,
) -> None:
    """Show a lock's features, methods, parameters and warnings.

    Examples:

        normlock show model.normlock.json
    """
    from normlock.lock import load
    from normlock.render import lock_overview, lock_table

    lock = load(lock_file)
    if as_json:
        typer.echo(json.dumps(lock_overview(lock), indent=2, allow_nan=False, default=str))
        return
    console().print(lock_table(lock))


@app.command()
@guarded
def diff(
    a: Annotated[Path, typer.Argument(help="The first (old) lock file.")],
    b: Annotated[Path, typer.Argument(help="The second (new) lock file.")],
    as_json: JsonOption = False,
) -> None:
    """List what changed per feature; exit 1 when the two locks transform differently.

    Examples:

        normlock diff old.normlock.json new.normlock.json
    """
    from normlock.diff import diff_locks
    from normlock.lock import load
    from normlock.render import diff_table

    result = diff_locks(load(a), load(b))
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        console().print(diff_table(result))
    raise typer.Exit(EXIT_FINDING if result.transforms_differ else EXIT_OK)


@app.command()
@guarded
def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Keep every file the demo makes here (default: a temporary folder, removed "
            "at the end).",
        ),
    ] = None,
    conditioning: Annotated[
        bool,
        typer.Option(
            "--conditioning",
            help="Instead: gradient descent on raw vs normalized data, steps beside κ.",
        ),
    ] = False,
) -> None:
    """Run the journey on generated data, offline: fit and lock; verify, check-leakage and
    monitor each catch a mistake; push, promote and check in an SQLite registry.

    With --conditioning: train one linear model by plain gradient descent on raw and on
    normalized columns, and show the steps each takes beside κ(XᵀX) and the theory.

    Examples:

        normlock demo

        normlock demo --dir demo/

        normlock demo --conditioning --dir demo/
    """
    if conditioning:
        from normlock.demo.conditioning import run_conditioning

        run_conditioning(directory, console())
        return
    from normlock.demo import run_demo

    run_demo(directory, console())
