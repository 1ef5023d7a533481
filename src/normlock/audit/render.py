"""An audit report in the terminal (rich) and as HTML in the monitor report's style."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Any

from normlock.audit.findings import AuditReport

_MODE_STYLES = {"training": "bold red", "batch statistics": "yellow"}


def _header(report: AuditReport) -> list[str]:
    parts = [f"{report.model} ({report.framework}, {report.dtype})"]
    if report.lock is not None:
        parts.append(f"lock in front {report.lock[:16]}")
    if report.attached is not None:
        state = {True: "confirmed", False: "NOT the lock given", None: "not checked"}
        parts.append(
            f"carries lock {report.attached.fingerprint[:16]} ({state[report.attached.confirmed]})"
        )
    if report.input_layer is not None:
        parts.append(f"input layer {report.input_layer}")
    return parts


def _running(layer: Any) -> str:
    running = layer.running
    if running is None:
        return "-"
    tracked = "" if running.batches is None else f", {running.batches:,} batches"
    return (
        f"mean {running.mean.min():.3g}..{running.mean.max():.3g}, "
        f"var {running.var.min():.3g}..{running.var.max():.3g}{tracked}"
    )


def report_table(report: AuditReport) -> Any:
    """A rich renderable of ``report``: header, findings, layers, notes, verdict."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [Text("  ·  ".join(_header(report)), style="bold")]
    if report.findings:
        findings = Table(show_lines=True, title="findings", title_justify="left")
        for column in ("kind", "layer", "what happened", "fix"):
            findings.add_column(column, overflow="fold")
        for f in report.findings:
            findings.add_row(Text(f.kind, style="bold red"), f.layer, f.message, f.fix)
        parts.append(findings)
    layers = Table(title="normalization layers", title_justify="left")
    for column in ("layer", "type", "mode", "settings", "running statistics"):
        layers.add_column(column, overflow="fold")
    flagged = {f.layer for f in report.findings}
    for layer in report.layers:
        layers.add_row(
            Text(layer.place, style="bold" if layer.place in flagged else ""),
            layer.type,
            Text(layer.mode, style=_MODE_STYLES.get(layer.mode, "")),
            layer.settings(),
            _running(layer),
        )
    parts.append(layers)
    parts += [Text(f"note: {n}", style="dim") for n in report.notes]
    verdict = report.headline()
    parts.append(Text(verdict, style="bold green" if report.ok else "bold red"))
    return Group(*parts)


def section_html(report: AuditReport) -> str:
    """The audit as one ``<section>`` of the monitor report's page style."""
    verdict = "no finding" if report.ok else f"{len(report.findings)} finding(s)"
    findings = "\n".join(
        f'<tr><td class="kind">{escape(f.kind)}</td><td>{escape(f.layer)}</td>'
        f"<td>{escape(f.message)}</td><td>{escape(f.fix)}</td></tr>"
        for f in report.findings
    )
    layers = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{escape(c)}</td>"
            for c in (layer.place, layer.type, layer.mode, layer.settings(), _running(layer))
        )
        + "</tr>"
        for layer in report.layers
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    findings_table = (
        "<table><tr><th>kind</th><th>layer</th><th>what happened</th><th>fix</th></tr>"
        f"\n{findings}</table>"
        if report.findings
        else "<p>None.</p>"
    )
    return f"""<section class="audit">
<h2>Model audit</h2>
<p>{escape(" · ".join(_header(report)))}</p>
<p class="verdict {"ok" if report.ok else "bad"}">{escape(verdict)}</p>
<h3>Findings</h3>
{findings_table}
<h3>Normalization layers</h3>
<table><tr><th>layer</th><th>type</th><th>mode</th><th>settings</th><th>running statistics</th></tr>
{layers}</table>
{f"<ul>{notes}</ul>" if notes else ""}
</section>"""


def render_html(report: AuditReport) -> str:
    """A self-contained page holding :func:`section_html` (inline CSS, no script)."""
    from normlock.monitor.html import STYLE

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>normlock audit report</title>
<style>{STYLE}</style></head><body>
<h1>normlock audit report</h1>
{section_html(report)}
</body></html>
"""


def write_html(path: str | os.PathLike[str], report: AuditReport) -> Path:
    """Write the report page atomically."""
    from normlock import artifact

    return artifact.write_atomic(path, render_html(report))
