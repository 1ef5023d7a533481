"""The benchmark's outputs: the machine it ran on, a markdown table, and a log-log plot."""

from __future__ import annotations

import datetime
import math
import os
import platform
import shlex
import sys
from importlib import metadata
from pathlib import Path

from common import MemoryRow, Row

LIBRARIES = ("normlock", "numpy", "scikit-learn", "pandas", "polars", "pyarrow")


def cpu() -> tuple[str, list[str]]:
    """The CPU's model name and which of AVX2 / AVX-512 F / DQ it has."""
    model, flags = platform.processor() or platform.machine(), set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            model = value.strip()
        elif key.strip() == "flags":
            flags = set(value.split())
            break
    return model, [flag for flag in ("avx2", "avx512f", "avx512dq") if flag in flags]


def numpy_dispatch() -> str:
    """The SIMD targets numpy dispatches to in this process (less NPY_DISABLE_CPU_FEATURES)."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # numpy 1
        from numpy.core import _multiarray_umath as umath
    features = umath.__cpu_features__
    return " ".join(t for t in umath.__cpu_dispatch__ if features.get(t)) or "baseline only"


def machine() -> dict[str, str]:
    """Where and how this run happened."""
    model, flags = cpu()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = [f"Python {platform.python_version()}"]
    versions += [f"{name} {metadata.version(name)}" for name in LIBRARIES]
    return {
        "cpu": f"{model} ({', '.join(flags) or 'no AVX2'})",
        "cores": f"{len(os.sched_getaffinity(0))} cores, {memory:.0f} GiB",
        "normlock kernel": os.environ.get("NORMLOCK_KERNEL", "widest this CPU has"),
        "numpy dispatch": numpy_dispatch(),
        "NPY_DISABLE_CPU_FEATURES": os.environ.get("NPY_DISABLE_CPU_FEATURES", "(not set)"),
        "versions": ", ".join(versions),
        "date": datetime.date.today().isoformat(),
        "command": shlex.join(["python", *sys.argv]),
    }


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def count(rows: int) -> str:
    """10000 -> 10k, 1000000 -> 1M; other numbers as they are."""
    for suffix, scale in (("M", 1_000_000), ("k", 1_000)):
        if rows >= scale and rows % scale == 0:
            return f"{rows // scale}{suffix}"
    return f"{rows:,}"


def met(value: bool | None) -> str:
    return "—" if value is None else "yes" if value else "**NO**"


def table(header: list[str], lines: list[list[str]]) -> list[str]:
    rule = ["---"] * len(header)
    return ["| " + " | ".join(cells) + " |" for cells in [header, rule, *lines]]


TIME_HEADER = [
    *("case", "data", "rows", "normlock", "ns/row", "anchor", "anchor time", "ratio"),
    *("target", "met", "note"),
]
MEMORY_HEADER = ["case", "data", "rows", "measured", "MB", "limit MB", "met", "note"]


def time_cells(r: Row) -> list[str]:
    ratio = "—" if r.ratio is None else f"{r.ratio:.2f}x"
    ns = r.normlock_s / r.rows * 1e9
    per_row = f"{ns:.3g}" if ns < 1000 else f"{ns:,.0f}"
    return [
        *(r.case, r.data, count(r.rows), seconds(r.normlock_s), per_row),
        *(r.anchor, seconds(r.anchor_s), ratio, r.target or "—", met(r.met), r.note),
    ]


def memory_cells(m: MemoryRow) -> list[str]:
    return [
        *(m.case, m.data, count(m.rows), m.measured, f"{m.mb:.0f}", f"{m.limit_mb:.0f}"),
        *(met(m.met), m.note),
    ]


def markdown(info: dict[str, str], rows: list[Row], memory: list[MemoryRow]) -> str:
    """The whole report: machine, times, memory, and every missed target named."""
    out = ["# normlock benchmarks", ""]
    out += [f"- **{key}**: {value}" for key, value in info.items()]
    out += [
        "",
        "Times are medians (see --repeat); ratio = anchor time / normlock time (above 1:",
        "normlock is faster); met: — is a row without target (or without its anchor).",
        "",
    ]
    out += table(TIME_HEADER, [time_cells(r) for r in rows])
    if memory:
        out += ["", "Peak memory (fresh process for each):", ""]
        out += table(MEMORY_HEADER, [memory_cells(m) for m in memory])
    out += ["", summary(rows, memory)]
    return "\n".join(out) + "\n"


def summary(rows: list[Row], memory: list[MemoryRow]) -> str:
    checked = [r for r in rows if r.met is not None] + list(memory)
    missed = [f"{r.case}, {r.data}, {count(r.rows)}" for r in checked if not r.met]
    text = f"**Targets: {len(checked) - len(missed)} of {len(checked)} met.**"
    return text + (f" Not met: {'; '.join(missed)}." if missed else "")


def plot(rows: list[Row], path: Path) -> None:
    """ns per row against rows, log-log: a panel per group of cases, a colour per case,
    normlock solid and its anchor dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(dict.fromkeys(r.panel for r in rows if r.panel))
    if not panels:
        return
    columns = min(2, len(panels))
    lines = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(
        lines, columns, figsize=(8 * columns, 6.4 * lines), squeeze=False, layout="constrained"
    )
    for axis, panel in zip(axes.flat, panels, strict=False):
        draw_panel(axis, panel, [r for r in rows if r.panel == panel])
    for axis in list(axes.flat)[len(panels) :]:
        axis.set_visible(False)
    figure.suptitle(
        "Time per row, rows x 32 float columns (lower is better): "
        "normlock solid (o), its anchor dashed (x), in the same colour"
    )
    figure.savefig(path, dpi=110)
    plt.close(figure)


def draw_panel(axis, panel: str, rows: list[Row]) -> None:  # type: ignore[no-untyped-def]
    """One panel: a colour per (case, container), its anchor dashed unless already drawn;
    the legend below the axes names both."""
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for r in rows:
        groups.setdefault((r.case, r.data, r.anchor), []).append(r)
    drawn: set[tuple[str, str]] = set()
    for index, ((case, data, anchor), points) in enumerate(groups.items()):
        colour = f"C{index % 10}"
        label = case if data in panel else data if case in panel else f"{data}: {case}"
        ns = [p.normlock_s / p.rows * 1e9 for p in points]
        axis.plot([p.rows for p in points], ns, "o-", color=colour, label=label)
        timed = [(p.rows, p.anchor_s / p.rows * 1e9) for p in points if p.anchor_s is not None]
        if timed and (anchor, data) not in drawn:
            drawn.add((anchor, data))
            axis.plot(*zip(*timed, strict=True), "x--", color=colour, label=f"    vs {anchor}")
    axis.set(xscale="log", yscale="log", title=panel, xlabel="rows", ylabel="ns per row")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
