"""``normlock serve``: starts on loopback, serves the registry, warns off loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

import normlock as nl
from normlock.integrations.web.server import is_loopback
from normlock.registry import Registry
from tests.integrations.web_setup import free_port


def test_serve_answers_on_loopback_until_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite3"
    with Registry(str(path)) as registry:
        registry.push(nl.fit({"x": np.arange(9.0)}), "orders")
    port = free_port()
    command = [sys.executable, "-m", "normlock.cli", "serve", "--registry", str(path)]
    server = subprocess.Popen(
        [*command, "--port", str(port)], stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        assert f"serving the registry at http://127.0.0.1:{port}/" in line
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/names/orders", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.1)
        assert answer.status_code == 200 and "orders@1" in answer.text
    finally:
        os.killpg(server.pid, signal.SIGINT)
        assert server.wait(timeout=30) == 0


def test_serve_warns_off_loopback_and_never_shows_the_password() -> None:
    url = f"postgresql+psycopg://viewer:hunter2-pw@127.0.0.1:{free_port()}/normlock"
    result = subprocess.run(
        [sys.executable, "-m", "normlock.cli", "serve", "--registry", url, "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "warning: listening on 0.0.0.0: anyone who can reach it reads" in result.stderr
    assert "viewer:***@127.0.0.1" in result.stderr and "hunter2" not in result.stderr


def test_loopback_means_every_address_of_the_host_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert is_loopback("127.8.9.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.7") and not is_loopback("::")
