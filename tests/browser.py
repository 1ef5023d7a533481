"""A page rendered by headless Chromium, as pixels: what a reader of an HTML report sees."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np


def screenshot(page: Path, width: int, height: int) -> np.ndarray:
    """``page`` rendered at ``width`` x ``height``, as an RGB array of ints."""
    from PIL import Image

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is needed: apt-get install -y chromium (.ci/run installs it)"
    shot = page.with_suffix(".png")
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={page.parent / 'chromium-profile'}",
        "--hide-scrollbars", f"--screenshot={shot}", f"--window-size={width},{height}",
        page.as_uri(),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return np.asarray(Image.open(shot).convert("RGB")).astype(int)
