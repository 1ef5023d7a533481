"""The demo's steps: each runs one public entry point on the demo's files and says what it found.

Every step prints one or two lines — what ran, the equivalent command, the files it wrote —
and its finding.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.markup import escape

from normlock.demo.data import TARGET, Files
from normlock.lock import Lock

REGISTRY_NAME = "orders"
ALIAS = "production"


class Narrator:
    """Prints the demo's lines on a rich console."""

    def __init__(self, console: Any) -> None:
        self.console = console

    def _print(self, text: str) -> None:
        self.console.print(text, soft_wrap=True, highlight=False)

    def step(self, number: int, name: str, text: str) -> None:
        """``N. name   text``."""
        self._print(f"[bold cyan]{number}. {name:<9}[/] {escape(text)}")

    def command(self, text: str) -> None:
        """The equivalent command line, dimmed."""
        self._print(f"   [dim]$ {escape(text)}[/]")

    def finding(self, text: str, bad: bool = True) -> None:
        """A finding: red when something is wrong, green when all is well."""
        mark = "[bold red]✗[/]" if bad else "[bold green]✓[/]"
        self._print(f"   {mark} {escape(text)}")

    def note(self, text: str) -> None:
        """A hint for what to do next."""
        self._print(f"   [bold]→[/] {escape(text)}")

    def files(self, *paths: Path) -> None:
        """Where the step's files are."""
        self._print("   [dim]→ " + escape(", ".join(str(p) for p in paths)) + "[/]")


def _fit(sources: list[Path], spec: Path) -> Lock:
    import normlock as nl
    from normlock.io.files import batch_source

    return nl.fit(
        batch_source(sources, sourced=True), spec, target=TARGET, sources=[p.name for p in sources]
    )


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def fit_step(files: Files, say: Narrator) -> Lock:
    """1. Fit on the training split, save, load back (seal checked), replay the probes."""
    import normlock as nl

    lock = _fit([files.train], files.spec)
    lock.save(files.lock)
    loaded = nl.load(files.lock)
    probes = loaded.probes()
    identical = all(
        np.array_equal(
            loaded.feature(n).apply(np.array(p["input"])), np.array(p["float64"]), equal_nan=True
        )
        for n, p in probes.items()
        if n in loaded.feature_names
    )
    target = loaded.target
    chain = " -> ".join(s.method for s in target.steps) if target is not None else "none"
    train, test, served = (_rows(p) for p in (files.train, files.test, files.served))
    say.step(
        1,
        "fit",
        f"orders: {train:,} training, {test:,} test and {served:,} served rows; "
        f"{len(loaded.feature_names)} features + target {TARGET} ({chain}) fitted on the "
        f"training split only; sealed, loaded back, probes bit for bit: "
        f"{'yes' if identical else 'NO'}",
    )
    say.command(
        f"normlock fit {files.train.name} --spec {files.spec.name} --target {TARGET} "
        f"-o {files.lock.name}"
    )
    say.files(files.train, files.test, files.served, files.spec, files.lock)
    return loaded


def verify_step(lock: Lock, files: Files, say: Narrator) -> Any:
    """2. Verify a serving step that standardizes one feature with the sample std."""
    from normlock.verify.parity import verify

    report = verify(lock, f"{files.serving}:normalize", feed="columns")
    failing = sorted({r.feature for r in report.mismatches})
    verdict = f"FAILED on {', '.join(failing)}" if failing else "matches the lock"
    say.step(2, "verify", f"{files.serving.name}:normalize against the lock's probes: {verdict}")
    say.command(
        f"normlock verify {files.lock.name} --against {files.serving.name}:normalize --feed columns"
    )
    say.files(files.serving)
    for feature, messages in report.causes().items():
        for message in messages:
            say.finding(f"{feature}: {message}")
    return report


def leakage_step(lock: Lock, files: Files, say: Narrator) -> Any:
    """3. A lock fitted before the split (on train + test) is caught by refitting it on each
    split; the demo's own lock passes."""
    from normlock.verify.split import compare_split

    leaky = _fit([files.train, files.test], files.spec)
    leaky.save(files.leaky)
    splits = [str(files.train)], [str(files.test)]
    clean, split = compare_split(lock, *splits), compare_split(leaky, *splits)
    say.step(
        3,
        "leakage",
        f"{files.leaky.name}: the same spec fitted before the split, on train + test; the "
        "check refits each lock on train and on train + test and compares them bit for bit",
    )
    say.command(
        f"normlock check-leakage {files.leaky.name} --train {files.train.name} "
        f"--holdout {files.test.name}"
    )
    say.files(files.leaky)
    say.finding(f"{files.lock.name}: {clean.describe()}", bad=clean.leaked)
    say.finding(f"{files.leaky.name}: {split.describe()}", bad=split.leaked)
    return split


def monitor_step(lock: Lock, files: Files, say: Narrator) -> Any:
    """4. Monitor the served batch; write the HTML report."""
    import pyarrow.parquet as pq

    from normlock.monitor.html import write_html

    monitor = lock.monitor()
    monitor.update(pq.read_table(files.served))
    report = monitor.report()
    write_html(files.report, report, lock, monitor.profile)
    problems = [f for f in report.findings if f.kind != "ok"]
    say.step(
        4,
        "monitor",
        f"{files.served.name} ({report.rows:,} rows) against the lock's training reference: "
        f"{len(problems)} finding(s)",
    )
    say.command(
        f"normlock monitor {files.lock.name} {files.served.name} --html {files.report.name}"
    )
    say.files(files.report)
    for finding in report.findings:
        say.finding(f"[{finding.kind}] {finding.message}", bad=finding.kind != "ok")
    return report


WINDOWS = 5
"""Hourly windows recorded from each of the test split and the served batch."""
FIRST_WINDOW = datetime(2025, 1, 6, tzinfo=UTC)


def _record_windows(registry: Any, ref: str, files: Files) -> int:
    """Record the test split, then the served batch, as hourly windows of served data:
    the first ones clean, the later ones with ``parcel_kg`` in grams. How many."""
    import pyarrow.parquet as pq

    lock = registry.pull(ref).lock
    hour = 0
    for path in (files.test, files.served):
        table = pq.read_table(path)
        size = -(-table.num_rows // WINDOWS)
        for start in range(0, table.num_rows, size):
            monitor = lock.monitor()
            monitor.update(table.slice(start, size))
            begin = FIRST_WINDOW + timedelta(hours=hour)
            end = begin + timedelta(hours=1)
            registry.record_profile(ref, monitor.profile, start=begin, end=end, source="shop")
            hour += 1
    return hour


def registry_step(files: Files, say: Narrator, *, kept: bool = True) -> Any:
    """5. Push the lock to an SQLite registry, promote it, check the deployed file against
    it, record served windows, and say how to browse it (``normlock serve``)."""
    try:
        from normlock.registry import Registry
    except ImportError:
        say.step(
            5,
            "registry",
            "skipped: the registry needs SQLAlchemy; install it with "
            "pip install 'normlock[registry]'",
        )
        return None
    with Registry(str(files.registry)) as registry:
        pushed = registry.push(files.lock, REGISTRY_NAME)
        registry.promote(pushed.version.ref, ALIAS)
        alignment = registry.check(files.lock, REGISTRY_NAME, ALIAS)
        windows = _record_windows(registry, pushed.version.ref, files)
    ref = f"{REGISTRY_NAME}@{ALIAS}"
    say.step(
        5,
        "registry",
        f"pushed {files.lock.name} as {pushed.version.ref}, promoted it to {ALIAS}, "
        f"checked the deployed file against it, recorded {windows} hourly windows of served "
        "data (the test split, then the served batch)",
    )
    say.command(
        f"export NORMLOCK_REGISTRY={files.registry.name}; normlock registry push "
        f"{files.lock.name} -n {REGISTRY_NAME}; normlock registry promote "
        f"{pushed.version.ref} {ALIAS}; normlock check {files.lock.name} -n {REGISTRY_NAME}"
    )
    say.files(files.registry)
    verdict = "is" if alignment.aligned else "is NOT"
    say.finding(f"{files.lock.name} {verdict} the lock {ref} points to", bad=not alignment.aligned)
    browse = f"normlock serve --registry {files.registry}"
    if kept:
        say.note(f"browse the registry (then open http://127.0.0.1:8765/): {browse}")
    else:
        say.note(
            "to browse the registry, keep the files with `normlock demo --dir DIR`, then run "
            "normlock serve --registry DIR/registry.sqlite3"
        )
    return alignment
