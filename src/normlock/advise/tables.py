"""The advisor's result as rich tables: columns, conditioning, precision risks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from normlock.advise.precision import FORMATS

if TYPE_CHECKING:
    from normlock.advise.report import Advice


def _g(value: float) -> str:
    return f"{value:.3g}"


def advice_table(advice: Advice) -> Any:
    """The columns (figures, method, reason), the conditioning and the precision tables."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    columns = Table(
        show_lines=True,
        title=f"{advice.rows:,} rows" + (f" of {advice.source}" if advice.source else ""),
    )
    for header in ("column", "measured", "method", "why", "rejected"):
        columns.add_column(header, overflow="fold")
    for m, r in zip(advice.measurements, advice.recommendations, strict=True):
        if m.kind == "numeric" and m.count:
            figures = (
                f"{m.count:,} values, {m.distinct:,} distinct\n[{_g(m.min)}, {_g(m.max)}], "
                f"{m.decades:.1f} decades\nskew {m.skewness:.2f}, kurt {m.kurtosis:.2f}\n"
                f"outliers {m.outliers:.1%}, modes {m.modes}"
            )
        else:
            figures = f"{m.kind}, {m.distinct:,} distinct, {m.missing:,} missing"
        rejected = "\n".join(f"{method}: {why}" for method, why in r.rejected)
        columns.add_row(r.column, figures, r.method, r.reason, Text(rejected, style="dim"))
    c = advice.conditioning
    kappa = Table(title="conditioning of XᵀX (with an intercept)")
    for header in ("data", "κ", "gradient-descent steps to 1e-6"):
        kappa.add_column(header)
    for label, value in (
        ("raw", c.raw),
        ("after the recommended spec", c.normalized),
        ("after whitening all", c.whitened),
    ):
        kappa.add_row(label, _g(value), _g(c.steps(value)))
    parts: list[Any] = [columns, kappa]
    if c.correlated:
        shown = ", ".join(f"{a}~{b} r={r:.3f}" for a, b, r in c.correlated[:6])
        parts.append(Text(f"correlated after normalization: {shown}", style="yellow"))
    precision = Table(title="precision risks: share of values harmed when cast (before -> after)")
    precision.add_column("column")
    for name in FORMATS:
        precision.add_column(name, overflow="fold")
    for name, stages in advice.precision.items():
        cells = []
        for before, after in zip(stages["before"], stages["after"], strict=True):
            cells.append(
                f"{before.worst:.1%} -> {after.worst:.1%}\n"
                f"spacing/std {before.spacing:.2g} -> {after.spacing:.2g}"
            )
        precision.add_row(name, *cells)
    parts.append(precision)
    return Group(*parts)
