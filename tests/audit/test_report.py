"""The audit report: JSON, terminal table, HTML page; and what ``import normlock`` loads."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import torch

import normlock as nl
from normlock.audit.findings import KINDS
from normlock.audit.render import render_html, report_table, section_html
from tests.audit.models import Block, ConvNet
from tests.browser import screenshot


def faulty_report() -> nl.audit.AuditReport:
    """Training mode, statistics never updated, and an epsilon lost in float16."""
    model = torch.nn.Sequential(ConvNet(), torch.nn.Unflatten(1, (2, 1)), Block(dim=1, eps=1e-12))
    return nl.audit(model, dtype="float16")


def test_json_holds_every_layer_and_finding() -> None:
    report = faulty_report()
    document = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert document["format"] == "normlock.audit-report" and document["ok"] is False
    assert [layer["place"] for layer in document["layers"]] == ["0.bn1", "0.bn2", "2.ln", "2.rms"]
    kinds = [f["kind"] for f in document["findings"]]
    assert kinds == sorted(kinds, key=KINDS.index)  # in the documented order
    assert set(kinds) == {"training_mode", "stats_never_updated", "epsilon_underflow"}
    assert document["layers"][0]["running"]["batches_tracked"] == 0
    assert all(f["fix"] for f in document["findings"])
    assert document["thresholds"]["small_batch"] == 16


def test_str_gives_one_line_per_finding() -> None:
    report = faulty_report()
    lines = str(report).splitlines()
    assert lines[0] == report.headline() and len(lines) == 1 + len(report.findings)
    assert lines[1].startswith("[training_mode] 0.bn1: ") and " Fix: call model.eval()" in lines[1]


def test_the_terminal_table_names_layers_findings_and_fixes() -> None:
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(report_table(faulty_report()))
    text = console.export_text()
    assert "normalization layers" in text and "2.rms" in text and "epsilon_underflow" in text
    assert "momentum=0.1" in text and "0 batches" in text
    assert "audit: torch.nn.modules.container.Sequential: 4 normalization layer(s)" in text


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "tr":
            self.rows.append([])
        if tag in ("script", "link", "img"):
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        if self.rows and data.strip():
            self.rows[-1].append(data.strip())


def test_html_section_is_self_contained_and_escaped() -> None:
    report = faulty_report()
    page = render_html(report)
    for forbidden in ("<script", "src=", "href=", "url(", "@import"):
        assert forbidden not in page
    parser = _Cells()
    parser.feed(page)
    assert parser.scripts == 0
    rows = [r for r in parser.rows if r and r[0] in KINDS]
    assert len(rows) == len(report.findings)
    assert section_html(report).startswith('<section class="audit">')
    assert 'class="verdict bad"' in page and "&#x27;s" in page  # the model's, escaped


def test_html_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "audit.html"
    page.write_text(render_html(faulty_report()), encoding="utf-8")
    pixels = screenshot(page, 1100, 900)
    ink = np.any(pixels < 200, axis=2).mean()
    assert ink > 0.02  # text and tables, not a blank page
    verdict = (pixels[..., 0] == 0xFB) & (pixels[..., 1] == 0xE3) & (pixels[..., 2] == 0xE3)
    assert verdict.sum() > 2000  # the red verdict box of a report with findings


def test_import_normlock_loads_no_framework_and_audit_is_callable() -> None:
    code = (
        "import sys, normlock, normlock.audit, normlock.audit.findings; "
        "assert callable(normlock.audit) and normlock.audit.__name__ == 'normlock.audit'; "
        "print(' '.join(sorted(m for m in ('torch', 'onnx', 'onnxruntime') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == ""
