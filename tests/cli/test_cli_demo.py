"""``normlock demo``: the product on generated data, offline, in seconds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

import normlock as nl
from normlock.registry import Registry

FILES = (
    "train.parquet",
    "test.parquet",
    "served.parquet",
    "spec.yaml",
    "serving.py",
    "model.normlock.json",
    "leaky.normlock.json",
    "monitor.html",
    "registry.sqlite3",
)


def _demo(
    *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return result, time.perf_counter() - start


def test_the_demo_catches_each_mistake_and_keeps_its_files_with_dir(tmp_path: Path) -> None:
    result, elapsed = _demo("-m", "normlock.cli", "demo", "--dir", str(tmp_path))
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert elapsed < 30
    for name in FILES:
        assert (tmp_path / name).is_file(), name
        assert str(tmp_path / name) in out  # says where each file is
    assert "probes bit for bit: yes" in out
    lock = nl.load(tmp_path / "model.normlock.json")
    train = pq.read_table(tmp_path / "train.parquet")
    target = train["order_value"].to_numpy()
    assert lock.target is not None and lock.target.name == "order_value"
    assert np.unique(target).size > 1000 and target.min() > 0  # an amount, not a label
    assert lock.passthrough == ("customer_id",)

    age = train["age"].to_numpy()
    assert (
        "age: sample std (ddof=1) used where the lock uses the population std (ddof=0): "
        f"std {np.std(age, ddof=1):.9g} vs locked {np.std(age):.9g}"
    ) in out

    assert "✓ model.normlock.json: ok: the lock's statistics are exactly those of the " in out
    assert "✗ leaky.normlock.json: LEAKAGE: the lock's statistics are exactly those of " in out
    leaky = nl.load(tmp_path / "leaky.normlock.json")
    test = pq.read_table(tmp_path / "test.parquet")
    assert leaky.provenance["rows"] == train.num_rows + test.num_rows

    served = pq.read_table(tmp_path / "served.parquet")
    ratio = np.median(served["parcel_kg"].to_numpy()) / np.median(train["parcel_kg"].to_numpy())
    assert 900 < ratio < 1100  # grams where kilograms are expected
    findings = [line for line in out.splitlines() if line.startswith("   ✗ [")]
    assert len(findings) == 1
    assert "[unit_change] parcel_kg: values look scaled ×1000" in findings[0]
    assert "likely g where kg" in findings[0]
    page = (tmp_path / "monitor.html").read_text(encoding="utf-8")
    assert "parcel_kg" in page and "unit_change" in page

    with Registry(str(tmp_path / "registry.sqlite3")) as registry:
        assert registry.aliases("orders") == {"production": 1}
        assert registry.pull("orders@production").lock.fingerprint == lock.fingerprint
    assert "✓ model.normlock.json is the lock orders@production points to" in out
    assert f"normlock serve --registry {tmp_path / 'registry.sqlite3'}" in out
    assert f"files kept in {tmp_path}" in out
    _opens_in_normlock_serve(tmp_path)


def _opens_in_normlock_serve(tmp_path: Path) -> None:
    """The demo's registry, browsed: clean windows, then the grams."""
    import httpx

    from tests.integrations.web_setup import served

    with Registry(str(tmp_path / "registry.sqlite3")) as registry, served(registry) as base:
        windows = httpx.get(f"{base}/api/windows/orders").json()
        kinds = [w["findings"][0]["kind"] for w in reversed(windows["windows"])]
        assert kinds == ["ok"] * 5 + ["unit_change"] * 5
        page = httpx.get(f"{base}/features/orders", params={"feature": "parcel_kg"})
        assert page.status_code == 200 and page.text.count("<svg") == 8


def test_without_options_or_sqlalchemy_it_skips_the_registry_and_cleans_up(
    tmp_path: Path,
) -> None:
    script = (
        "import sys; sys.modules['sqlalchemy'] = None; sys.argv = ['normlock', 'demo']; "
        "from normlock.cli import main; main()"
    )
    result, _ = _demo("-c", script, env={"TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (
        "5. registry  skipped: the registry needs SQLAlchemy; install it with "
        "pip install 'normlock[registry]'"
    ) in result.stdout
    assert "LEAKAGE" in result.stdout and "[unit_change] parcel_kg" in result.stdout
    assert "removed the temporary folder" in result.stdout
    assert "keep the files with `normlock demo --dir DIR`" not in result.stdout  # skipped
    assert list(tmp_path.iterdir()) == []
