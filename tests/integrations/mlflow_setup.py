"""A real MLflow tracking store for tests: SQLite in a temporary folder, artifacts beside it,
and the data and models the tests log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import normlock as nl
from tests.integrations.web_setup import free_port

FEATURES = ["age", "income", "ctr"]


@dataclass(frozen=True)
class Tracking:
    """Where the store lives: its URI, its artifact folder, the experiment's id."""

    uri: str
    artifacts: Path
    experiment_id: str


def open_store(folder: Path) -> Tracking:
    """Point MLflow at a new SQLite store in ``folder`` with its own experiment."""
    import mlflow

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    artifacts = folder / "artifacts"
    experiment = mlflow.create_experiment("normlock-tests", artifact_location=str(artifacts))
    mlflow.set_experiment(experiment_id=experiment)
    return Tracking(uri, artifacts, experiment)


def orders(rows: int, seed: int) -> pd.DataFrame:
    """Raw rows: three features, a passthrough id and a target in its own units."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 12, rows),
            "income": rng.lognormal(10, 0.8, rows),
            "ctr": rng.uniform(0, 0.2, rows),
            "customer_id": np.arange(rows, dtype=np.int64) + 1000,
        }
    )
    frame["price"] = (
        80 + 2 * frame["age"] + frame["income"] / 1000 + 300 * frame["ctr"] + rng.normal(0, 5, rows)
    )
    return frame


def fitted_lock(train: pd.DataFrame) -> nl.Lock:
    """A lock with a chain, a passthrough column and a target."""
    spec = {"age": "standard", "income": ["log1p", "standard"], "ctr": "minmax"}
    spec["customer_id"] = "passthrough"
    return nl.fit(train, spec, target="price")


@contextmanager
def scoring_server(model_uri: str, tracking_uri: str) -> Iterator[str]:
    """``mlflow models serve`` in its own process group on loopback; its base URL."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri]
    command += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri}
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                if httpx.get(f"{base}/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the scoring server did not start in 60 s"
            time.sleep(0.25)
        yield base
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
