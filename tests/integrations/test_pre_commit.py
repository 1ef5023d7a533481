"""The repository's pre-commit hooks, run by the real pre-commit in a temporary git repository.

The hooks are taken from ``.pre-commit-hooks.yaml`` as they are, with ``language: system``
so that they run the normlock of this environment instead of installing one.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import normlock as nl
from normlock.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
SERVING = """import numpy as np

MEAN = np.array([{means}])
STD = np.array([{stds}])


def normalize(x):
    return (x - MEAN) / STD
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _serving(lock: nl.Lock, ddof: int = 0) -> str:
    params = [lock.feature(n).steps[0].params for n in lock.feature_names]
    rows = lock.provenance["rows"]
    stds = [p["std"] * (math.sqrt(rows / (rows - 1)) if ddof else 1.0) for p in params]
    return SERVING.format(
        means=", ".join(repr(p["mean"]) for p in params), stds=", ".join(map(repr, stds))
    )


def _config(args: dict[str, list[str]]) -> str:
    hooks = []
    for hook in yaml.safe_load(MANIFEST.read_text()):
        hook = {k: v for k, v in hook.items() if k != "additional_dependencies"}
        hooks.append({**hook, "language": "system", "args": args[hook["id"]]})
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]})


def _pre_commit(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "NORMLOCK_REGISTRY": str(home.parent / "registry.sqlite3"),
    }
    command = [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def lock() -> nl.Lock:
    rng = np.random.default_rng(3)
    return nl.fit({"age": rng.normal(40, 9, 300), "income": rng.normal(5e4, 8e3, 300)})


def test_the_manifest_is_valid() -> None:
    command = [sys.executable, "-m", "pre_commit", "validate-manifest", str(MANIFEST)]
    subprocess.run(command, check=True, capture_output=True)
    ids = [hook["id"] for hook in yaml.safe_load(MANIFEST.read_text())]
    assert ids == ["normlock-check", "normlock-verify"]


def test_the_hooks_pass_an_aligned_commit_and_fail_a_stale_lock_or_a_broken_serving_step(
    tmp_path: Path, lock: nl.Lock
) -> None:
    repo = tmp_path / "project"
    (repo / "deploy").mkdir(parents=True)
    _git(repo, "init", "-q")
    lock.save(repo / "deploy" / "model.normlock.json")
    (repo / "serving.py").write_text(_serving(lock))
    args = {
        "normlock-check": ["deploy/model.normlock.json", "--name", "fraud"],
        "normlock-verify": ["deploy/model.normlock.json", "--against", "serving.py:normalize"],
    }
    (repo / ".pre-commit-config.yaml").write_text(_config(args))
    with Registry(str(tmp_path / "registry.sqlite3")) as registry:
        registry.promote(registry.push(lock, "fraud").version.ref, "production")
    _git(repo, "add", "-A")
    home = tmp_path / "pre-commit-home"

    passed = _pre_commit(repo, home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.count("Passed") == 2

    newer = nl.fit({"age": np.arange(50.0), "income": np.arange(50.0) * 1e3})
    with Registry(str(tmp_path / "registry.sqlite3")) as registry:
        registry.promote(registry.push(newer, "fraud").version.ref, "production")
    stale = _pre_commit(repo, home)
    assert stale.returncode == 1
    assert "normlock check" in stale.stdout and "Failed" in stale.stdout
    assert "stale" in stale.stdout and "fraud@production is fraud@2" in stale.stdout

    with Registry(str(tmp_path / "registry.sqlite3")) as registry:
        registry.rollback("fraud", "production")
    (repo / "serving.py").write_text(_serving(lock, ddof=1))
    broken = _pre_commit(repo, home)
    assert broken.returncode == 1
    assert "sample std (ddof=1)" in broken.stdout
    assert broken.stdout.count("Passed") == 1  # check still passes: only verify fails
