"""``normlock demo``: the product on generated data, offline, in seconds.

1. generate an orders table (train / test / served) with a regression target, fit a lock on
   the training split, save it, load it back;
2. ``verify`` a serving step that standardizes one feature with the sample std: caught,
   cause named;
3. ``check-leakage --train/--holdout`` on a lock fitted before the split: caught;
4. ``monitor`` a served batch with one column in grams instead of kilograms: the unit
   named, the HTML report written;
5. push the lock to an SQLite registry in the demo's folder, promote it, check the deployed
   file against the alias, record the test split and the served batch as hourly windows,
   and print the ``normlock serve`` command that browses it (skipped, with the install
   line, without SQLAlchemy).

Every file goes to ``directory``, or to a temporary folder removed at the end.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from rich.markup import escape

from normlock.demo.data import Files, write_inputs
from normlock.demo.steps import (
    Narrator,
    fit_step,
    leakage_step,
    monitor_step,
    registry_step,
    verify_step,
)

TRAIN_ROWS, TEST_ROWS, SERVED_ROWS = 10_000, 2_500, 2_500


def run_demo(directory: Path | None, console: Any) -> None:
    """Run the demo, writing its files under ``directory`` (kept), or in a temporary
    folder removed at the end."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        _run(directory.resolve(), console, kept=True)
        console.print(f"files kept in {directory}", soft_wrap=True, highlight=False)
        return
    with tempfile.TemporaryDirectory(prefix="normlock-demo-") as temporary:
        _run(Path(temporary), console, kept=False)
    console.print(
        f"removed the temporary folder {temporary}; run `normlock demo --dir DIR` to keep "
        "the files",
        soft_wrap=True,
        highlight=False,
    )


def _run(folder: Path, console: Any, *, kept: bool) -> None:
    start = time.perf_counter()
    files = Files.under(folder)
    say = Narrator(console)
    console.print(
        f"[bold]normlock demo[/] in {escape(str(folder))} (the commands shown run there)",
        soft_wrap=True,
        highlight=False,
    )
    write_inputs(files, TRAIN_ROWS, TEST_ROWS, SERVED_ROWS)
    lock = fit_step(files, say)
    verify_step(lock, files, say)
    leakage_step(lock, files, say)
    monitor_step(lock, files, say)
    registry_step(files, say, kept=kept)
    console.print(f"done in {time.perf_counter() - start:.1f} s", highlight=False)
