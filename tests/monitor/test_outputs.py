"""Reports: JSON, Prometheus text exposition, and the HTML page in a real headless browser."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

import normlock as nl
from normlock.monitor.html import render_html
from normlock.monitor.table import report_table
from tests.browser import screenshot

rng = np.random.default_rng(30)
TRAIN = {"grams": rng.normal(500, 50, 3000), "ratio": rng.beta(2, 5, 3000)}
LOCK = nl.fit(TRAIN, {"ratio": "minmax"})


def served(rows: int, seed: int) -> dict[str, np.ndarray]:
    local = np.random.default_rng(seed)
    grams = local.normal(500, 50, rows) / 1000  # kilograms where grams are expected
    ratio = local.beta(2, 5, rows)
    ratio[::10] = np.nan
    return {"grams": grams, "ratio": ratio}


def _monitor(*batches: dict[str, np.ndarray]):
    monitor = LOCK.monitor()
    for batch in batches:
        monitor.update(batch)
    return monitor


def test_json_report_is_strict_json_with_findings_and_metrics() -> None:
    report = _monitor(served(400, 1)).report()
    document = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    kinds = {f["kind"]: f for f in document["findings"]}
    assert set(kinds) == {"unit_change", "missing_surge"}
    assert kinds["unit_change"]["evidence"]["factor"] == 0.001
    assert "×0.001" in kinds["unit_change"]["message"]
    assert 0 <= kinds["unit_change"]["confidence"] <= 1
    assert document["metrics"]["grams"]["n"] == 400
    assert document["fingerprint"] == LOCK.fingerprint and document["ok"] is False


def test_the_terminal_table_names_findings_and_features() -> None:
    from rich.console import Console

    out = io.StringIO()
    Console(file=out, width=200).print(report_table(_monitor(served(400, 1)).report()))
    text = out.getvalue()
    assert "unit_change" in text and "missing_surge" in text and "grams" in text


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_prometheus_exposition_parses_and_counts_exactly() -> None:
    batch = served(700, 2)
    text = _monitor(batch).prometheus()
    samples = _samples(text)
    assert all(dict(labels)["lock"] == LOCK.fingerprint for _, labels in samples)
    base = (("feature", "ratio"), ("lock", LOCK.fingerprint), ("stage", "raw"))
    ratio = batch["ratio"]
    finite = ratio[np.isfinite(ratio)]
    assert samples[("normlock_served_rows_total", base)] == 700
    assert samples[("normlock_served_missing_total", base)] == 70
    assert samples[("normlock_served_value_count", base)] == finite.size
    assert samples[("normlock_served_value_sum", base)] == pytest.approx(finite.sum(), rel=1e-12)
    squares = samples[("normlock_served_value_squares_total", base)]
    assert squares == pytest.approx(np.sum(finite**2), rel=1e-12)
    edges = LOCK.feature("ratio").reference["histogram_edges"]
    for edge in edges:
        key = ("normlock_served_value_bucket", tuple(sorted((*base, ("le", repr(edge))))))
        assert samples[key] == np.sum(finite <= edge)
    grams = (("feature", "grams"), ("lock", LOCK.fingerprint), ("side", "below"), ("stage", "raw"))
    assert samples[("normlock_served_out_of_range_total", grams)] == 700


def test_prometheus_series_of_replicas_add_up_to_the_merged_profile() -> None:
    first, second = _monitor(served(300, 3)), _monitor(served(500, 4))
    replica_sum: dict = {}
    for monitor in (first, second):
        for key, value in _samples(monitor.prometheus()).items():
            replica_sum[key] = replica_sum.get(key, 0) + value
    first.merge(second)
    merged = _samples(first.prometheus())
    for key, value in merged.items():
        if key[0] != "normlock_lock_info":
            assert replica_sum[key] == pytest.approx(value, rel=1e-12), key


def test_html_report_is_self_contained(tmp_path: Path) -> None:
    monitor = _monitor(served(400, 5))
    page = render_html(monitor.report(), LOCK, monitor.profile)
    for forbidden in ("<script", "src=", "href=", "url(", "@import", "<link"):
        assert forbidden not in page
    assert page.count("<svg") == 4  # two plots for each flagged feature
    assert "×0.001" in page and "grams" in page


def test_html_report_renders_with_plots_in_headless_chromium(tmp_path: Path) -> None:
    monitor = _monitor(served(400, 6))
    page = tmp_path / "report.html"
    page.write_text(render_html(monitor.report(), LOCK, monitor.profile), encoding="utf-8")
    pixels = screenshot(page, 1100, 1500)
    assert pixels.shape[:2] == (1500, 1100)
    ink = np.any(pixels < 200, axis=2).mean()
    assert ink > 0.02  # text, tables and plot lines, not a blank page
    red = (pixels[..., 0] > 180) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
    blue = (pixels[..., 2] > 150) & (pixels[..., 0] < 80)
    assert red.sum() > 200 and blue.sum() > 200  # the served and training curves are drawn
