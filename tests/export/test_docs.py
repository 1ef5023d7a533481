"""The tolerance table in docs/exports.md is the one the code promises and the tests use."""

from __future__ import annotations

import re
from pathlib import Path

from normlock.export.tolerance import RUNTIMES, ULPS

DOCS = Path(__file__).parents[2] / "docs" / "exports.md"


def test_the_documented_ulps_are_the_tested_ones() -> None:
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (\S+) \| (\S+) \| (\S+) \|", DOCS.read_text(), re.M)
    documented = {
        name: {rt: float(v) for rt, v in zip(RUNTIMES, values, strict=True) if v != "—"}
        for name, *values in rows
    }
    assert documented == ULPS
