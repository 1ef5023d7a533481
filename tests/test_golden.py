"""Locks written by earlier format versions keep loading and give the same outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import normlock as nl
from normlock.export.tolerance import allowed_difference

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(
    "path", sorted(GOLDEN.glob("v*/*.normlock.json")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_golden_lock_loads_and_reproduces_outputs(path: Path) -> None:
    lock = nl.load(path)
    expected = json.loads(
        path.with_name(path.name.replace(".normlock.json", ".expected.json")).read_text()
    )
    inputs = {k: np.array(v) for k, v in expected["input"].items()}
    outputs = lock.transform(inputs) if inputs else {}  # a policy lock has no columns
    for name, values in expected["output"].items():
        assert_reproduced(lock.feature(name), inputs[name], outputs[name], np.array(values))
    for name, probe in lock.probes().items():
        feature = lock.feature(name)
        x = np.array(probe["input"])
        assert_reproduced(feature, x, feature.apply(x), np.array(probe["float64"]))


def assert_reproduced(feature, x: np.ndarray, got: np.ndarray, written: np.ndarray) -> None:
    """The same bits for affine chains; for chains with a logarithm, power or normal
    quantile, within what numpy's elementary functions may differ by between machines."""
    assert np.array_equal(np.isnan(got), np.isnan(written)), feature.name
    allowed = allowed_difference(feature, x, "numpy")
    gap = np.where(np.isnan(written), 0.0, np.abs(got - written))
    assert np.all(gap <= allowed), (feature.name, float(np.max(gap - allowed)))


def test_every_format_version_has_a_golden_lock() -> None:
    from normlock.artifact import FORMAT_VERSION

    assert {p.name for p in GOLDEN.iterdir()} >= {f"v{v}" for v in range(1, FORMAT_VERSION + 1)}
