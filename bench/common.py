"""What every benchmark case shares: its result rows, its timer, and peak memory of a child."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

# each timed sample calls the function this many times at most, so that it lasts this long
SAMPLE_CALLS, SAMPLE_SECONDS = 1000, 0.01


@dataclass(frozen=True)
class Target:
    """What a row must reach: ``anchor time / normlock time >= least``."""

    least: float
    text: str


def faster_by(factor: float) -> Target:
    """normlock ``factor`` times faster than the anchor (1: no slower)."""
    return Target(factor, "no slower" if factor == 1 else f">= {factor:g}x faster")


def within(times: float) -> Target:
    """normlock's time at most ``times`` the anchor's."""
    return Target(1 / times, f"<= {times:g}x its time")


def share_of_throughput(share: float) -> Target:
    """normlock's throughput at least ``share`` of the anchor's."""
    return Target(share, f">= {share:.0%} of its throughput")


@dataclass
class Row:
    """One timed case: normlock against its anchor on the same data in the same run.

    ``ratio`` is the anchor's time over normlock's (above 1: normlock is faster); ``met`` is
    None for an informational row (no target) or one whose anchor was not run.
    """

    case: str
    data: str
    rows: int
    normlock_s: float
    anchor: str
    anchor_s: float | None
    target: str = ""
    ratio: float | None = None
    met: bool | None = None
    note: str = ""
    panel: str = ""


def row(
    case: str,
    data: str,
    rows: int,
    ours: float,
    anchor: str,
    theirs: float | None,
    target: Target | None = None,
    note: str = "",
    panel: str = "",
) -> Row:
    """A row with its ratio and, where it has a target and an anchor time, whether it is met."""
    ratio = None if theirs is None else theirs / ours
    met = None if target is None or ratio is None else ratio >= target.least
    text = "" if target is None else target.text
    return Row(case, data, rows, ours, anchor, theirs, text, ratio, met, note, panel)


@dataclass
class MemoryRow:
    """A peak-memory measurement in a fresh process against its limit."""

    case: str
    data: str
    rows: int
    measured: str
    mb: float
    limit_mb: float
    met: bool
    note: str = ""


def samples(function: Callable[[], object], repeat: int) -> list[float]:
    """Seconds of one call in each of ``repeat`` samples, after one warm-up call.

    A sample calls the function as often as it takes to last about 10 ms (a fit of 10,000
    rows takes far less than the timer's noise), and counts the mean of those calls.
    """
    start = time.perf_counter()
    function()
    once = time.perf_counter() - start
    calls = max(1, min(SAMPLE_CALLS, round(SAMPLE_SECONDS / max(once, 1e-9))))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        times.append((time.perf_counter() - start) / calls)
    return times


def median_time(function: Callable[[], object], repeat: int) -> float:
    """Median seconds of one call over ``repeat`` :func:`samples`."""
    return statistics.median(samples(function, repeat))


STATUS = """
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):  # kB; VmHWM is this process's own peak
            return int(line.split()[1])
"""


def run_child(code: str, *args: str) -> tuple[float, dict[str, int]]:
    """Seconds and reported values of ``python -c code args`` in a fresh process.

    The child reports a value by printing ``BENCH name value`` to stderr; reading its own
    ``/proc/self/status`` (not ``ru_maxrss``, which would also count this process's memory).
    """
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", STATUS + code, *args], capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"child process {args} failed: {result.stderr[-2000:]}")
    values = {
        line.split()[1]: int(line.split()[2])
        for line in result.stderr.splitlines()
        if line.startswith("BENCH ")
    }
    return time.perf_counter() - start, values


CLI_PEAK = """
import sys
from normlock.cli import app
code = 0
try:
    app(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print("BENCH peak_kb", status("VmHWM"), file=sys.stderr)
sys.exit(code)
"""


def peak_run(*args: str) -> tuple[float, float]:
    """Seconds and peak resident MB of ``normlock ARGS --quiet`` in a fresh process."""
    seconds, values = run_child(CLI_PEAK, *args, "--quiet")
    return seconds, values["peak_kb"] / 1024
