"""The README's audit example runs as written and prints what its comments say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_example_runs_and_prints_its_comments() -> None:
    section = README.read_text(encoding="utf-8").split("## Audit the model side", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=300
    ).stdout.splitlines()
    for comment in re.findall(r"^# (.*)$", code, re.M):  # the printed report, abridged
        pieces = [p for p in re.split(r" \.\.\.(?: |$)", comment) if p]
        assert any(line.startswith(pieces[0]) and all(p in line for p in pieces) for line in out), (
            comment
        )
    trailing = [c.split(":")[0] for c in re.findall(r"^print\(.*\)\s+# (\S+)", code, re.M)]
    assert out[-3:] == trailing[-3:] == ["double_normalization", "True", "identical"]
