"""``normlock demo --conditioning``: the steps gradient descent takes follow κ."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from normlock.demo.conditioning import descend, houses
from tests.cli.helpers import run


def test_the_demo_shows_the_ratio_the_theory_predicts(tmp_path: Path) -> None:
    result = run("demo", "--conditioning", "--dir", tmp_path)
    assert result.exit_code == 0, result.output
    assert "the theory says" in result.output
    svg = (tmp_path / "gradient_descent.svg").read_text()
    assert svg.startswith("<svg") and "raw" in svg and "normalized" in svg
    report = (tmp_path / "houses.advice.html").read_text()
    assert report.count("<svg") >= 6 and "κ" in report
    assert "distance_km" in (tmp_path / "houses.spec.yaml").read_text()


def test_measured_steps_follow_kappa_within_a_factor_of_two() -> None:
    data = houses()
    raw = np.column_stack([data[n] for n in ("rooms", "age_years", "distance_km")])
    centered = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    slow, fast = descend("raw", raw, data["price"]), descend("standard", centered, data["price"])
    assert slow.kappa > 1e4 and fast.kappa < 2
    assert np.isclose(
        slow.kappa,
        np.linalg.cond(
            np.column_stack([np.ones(2000), raw]).T @ np.column_stack([np.ones(2000), raw])
        ),
    )
    for one in (slow, fast):
        assert 0.5 <= one.steps / one.predicted <= 2.0
    ratio = (slow.steps / fast.steps) / (slow.predicted / fast.predicted)
    assert 0.5 <= ratio <= 2.0
    assert slow.errors[-1] <= 1e-6 < slow.errors[-2]
