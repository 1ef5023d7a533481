"""The advisor's HTML report: per column its histograms before and after, its reason, and
the conditioning and precision tables. Inline CSS and SVG only; nothing loads, no script.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

import numpy as np

from normlock.advise.precision import FORMATS
from normlock.advise.report import Advice
from normlock.monitor.html import STYLE
from normlock.monitor.svg import Series, chart

BEFORE, AFTER = "#1f77b4", "#2ca02c"
BINS = 40


def _histogram(values: np.ndarray, title: str, label: str, color: str) -> str:
    """A histogram as a step line (share of values per bin)."""
    x = values[np.isfinite(values)]
    if x.size == 0 or not np.ptp(x) > 0:
        return f"<p>{escape(title)}: no spread to plot.</p>"
    counts, edges = np.histogram(x, bins=BINS)
    share = counts / x.size
    xs = np.repeat(edges, 2)[1:-1]
    ys = np.repeat(share, 2)
    return chart([Series(label, xs, ys, color)], title, label, "share of values")


def _pct(value: float) -> str:
    return f"{value:.1%}" if value else "0"


def _kappa_rows(advice: Advice) -> str:
    c = advice.conditioning
    rows = []
    for label, value in (
        ("raw", c.raw),
        ("per-column methods of the spec", c.before_groups),
        ("the recommended spec", c.normalized),
        ("whitening every modelled column", c.whitened),
    ):
        rows.append(f"<tr><td>{label}</td><td>{value:.4g}</td><td>{c.steps(value):.4g}</td></tr>")
    return "".join(rows)


def _precision_rows(advice: Advice) -> str:
    rows = []
    for name, stages in advice.precision.items():
        for stage in ("before", "after"):
            cells = "".join(
                f"<td>{_pct(r.overflow)}</td><td>{_pct(r.underflow)}</td>"
                f"<td>{_pct(r.subnormal)}</td><td>{_pct(r.collisions)}</td>"
                f"<td>{r.spacing:.2g}</td>"
                for r in stages[stage]
            )
            rows.append(f"<tr><td>{escape(name)}</td><td>{stage}</td>{cells}</tr>")
    return "".join(rows)


def render_html(advice: Advice) -> str:
    """The report as one self-contained HTML page."""
    sections = []
    for r in advice.recommendations:
        plots = ""
        if r.column in advice.samples:
            before, after = advice.samples[r.column]
            plots = (
                '<div class="plots">'
                + _histogram(before, f"{r.column}: raw", "raw value", BEFORE)
                + _histogram(after, f"{r.column}: normalized", "normalized value", AFTER)
                + "</div>"
            )
        rejected = "".join(f"<li>{escape(a)}: {escape(w)}</li>" for a, w in r.rejected)
        sections.append(
            f'<div class="feature"><h3>{escape(r.column)}: <code>{escape(r.method)}</code></h3>'
            f"<p>{escape(r.reason)}</p><ul>{rejected}</ul>{plots}</div>"
        )
    formats = "".join(f'<th colspan="5">{name}</th>' for name in FORMATS)
    subheads = (
        "<th>overflow</th><th>to zero</th><th>subnormal</th><th>collide</th><th>spacing/std</th>"
    )
    c = advice.conditioning
    pairs = ", ".join(f"{escape(a)}~{escape(b)} (r={r:.3f})" for a, b, r in c.correlated[:10])
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>normlock advice</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>How to normalize {escape(advice.source or 'this table')}</h1>"
        f"<p>{advice.rows:,} rows, {len(advice.recommendations)} columns"
        + (f", target {escape(advice.target)}" if advice.target else "")
        + "</p><h2>Conditioning of XᵀX (with an intercept)</h2>"
        "<table><tr><th>data</th><th>κ</th><th>gradient-descent steps to 1e-6</th></tr>"
        f"{_kappa_rows(advice)}</table>"
        + (f"<p>Correlated after normalization: {pairs}</p>" if pairs else "")
        + "<h2>Precision risks when cast (share of values)</h2>"
        f"<table><tr><th rowspan='2'>column</th><th rowspan='2'>stage</th>{formats}</tr>"
        f"<tr>{subheads * len(FORMATS)}</tr>{_precision_rows(advice)}</table>"
        "<h2>Columns</h2>"
        + "".join(sections)
        + "<h2>Spec</h2><pre>"
        + escape(advice.spec_yaml())
        + "</pre></body></html>"
    )


def write_html(advice: Advice, path: str | os.PathLike[str]) -> Path:
    """Write the report to ``path`` atomically; returns the path."""
    from normlock.artifact import write_atomic

    return write_atomic(path, render_html(advice))
