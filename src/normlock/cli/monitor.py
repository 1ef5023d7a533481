"""``normlock monitor``: profile served data against a lock, report drift and mismatches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from normlock.cli.common import (
    EXIT_FINDING,
    EXIT_OK,
    EXIT_USAGE,
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
def monitor(
    lock_file: Annotated[Path, typer.Argument(help="The lock file.")],
    data: Annotated[
        list[str] | None,
        typer.Argument(
            help="Served data files, globs or directories (or profiles, see --profiles)."
        ),
    ] = None,
    stage: Annotated[
        str | None,
        typer.Option(help="raw: the lock's inputs; normalized: the model's inputs. [default: raw]"),
    ] = None,
    profiles: Annotated[
        bool, typer.Option("--profiles", help="The inputs are profile JSON files to merge.")
    ] = False,
    as_json: JsonOption = False,
    html: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report.")] = None,
    profile_out: Annotated[
        Path | None, typer.Option(help="Write the (merged) profile as JSON.")
    ] = None,
    prometheus: Annotated[
        Path | None, typer.Option(help="Write the profile in Prometheus text format.")
    ] = None,
    engine: EngineOption = "local",
    scheduler: SchedulerOption = None,
    master: MasterOption = None,
    quiet: Quiet = False,
) -> None:
    """Compare served data with the lock's training reference; explain what differs.

    Exit code 0 when all is well, 1 when there is a finding, 2 on bad input.

    Examples:

        normlock monitor model.normlock.json served.parquet --html report.html

        normlock monitor model.normlock.json 'logs/*.parquet' --stage normalized --json

        normlock monitor model.normlock.json --profiles replica-a.json replica-b.json

        normlock monitor model.normlock.json 'logs/*.parquet' --engine spark

        normlock monitor images.normlock.json served_images/
    """
    from normlock.lock import load
    from normlock.monitor import Monitor, load_profile

    if stage not in (None, "raw", "normalized"):
        fail(f"--stage must be 'raw' or 'normalized', got {stage!r}")
    if not data:
        fail("give served data files, or profile files with --profiles")
    address = engine_address(engine, scheduler, master)
    lock = load(lock_file)
    if engine != "local":
        from normlock.engines.files import profile_files
        from normlock.io.files import expand

        if profiles:
            fail("--profiles merges profile files here; leave out --engine")
        merged = profile_files(lock, expand(data), engine, address, stage or "raw")  # type: ignore[arg-type]
        watch = Monitor(lock, merged.stage, profile=merged)
    elif profiles:
        stored = [load_profile(p) for p in data or []]
        merged = stored[0]
        for other in stored[1:]:
            merged = merged.merge(other)
        if stage is not None and stage != merged.stage:
            fail(f"the profiles are of stage {merged.stage!r}, not {stage!r}")
        watch = Monitor(lock, merged.stage, profile=merged)
    else:
        from normlock.domains.base import DomainLock
        from normlock.io.files import batch_source, expand

        if isinstance(lock, DomainLock):  # the domain's files: images, clips, series
            watch = lock.monitor("raw" if stage is None else stage)  # type: ignore[arg-type]
            for batch in lock.served_batches(data or []):
                watch.update(batch)
        else:
            watch = Monitor(lock, "raw" if stage is None else stage)  # type: ignore[arg-type]
            source = batch_source(expand(data or []), columns=list(lock.feature_names))
            for batch in progress(not quiet, "monitoring", source()):
                watch.update(batch)
    report = watch.report()
    if profile_out:
        watch.save_profile(profile_out)
    if prometheus:
        from normlock import artifact

        artifact.write_atomic(prometheus, watch.prometheus())
    if html:
        from normlock.monitor.html import write_html

        write_html(html, report, lock, watch.profile)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, allow_nan=False, ensure_ascii=False))
    else:
        from normlock.monitor.table import report_table

        console().print(report_table(report))
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FINDING)


__all__ = ["EXIT_USAGE", "monitor"]
