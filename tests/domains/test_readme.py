"""The README's domain examples run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def _examples() -> dict[str, str]:
    text = README.read_text()
    part = text[text.index("## Domains") :]
    part = part[: part.index("\n## ", 3)]
    found = {}
    for section in re.split(r"\n### ", part)[1:]:
        title = section.splitlines()[0]
        blocks = re.findall(r"```python\n(.*?)```", section, re.S)
        if blocks:
            found[title] = "\n".join(blocks)
    return found


@pytest.mark.parametrize("title", sorted(_examples()))
def test_the_example_runs(title: str, tmp_path) -> None:
    code = _examples()[title]
    script = tmp_path / "example.py"
    script.write_text(code)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    printed = done.stdout
    shown = [line[2:].split("...")[0] for line in code.splitlines() if line.startswith("# ")]
    assert shown and all(part in printed for part in shown), printed
