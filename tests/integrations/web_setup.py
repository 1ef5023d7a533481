"""A small registry for the web tests, and the web application served on loopback.

``fraud`` has three versions (the second fitted on other data), aliases moved by
promotions and a rollback, a model name and a feature whose names are HTML, and 24
hourly windows from two sources, two of them with amounts in cents; ``team/churn.v2``
has one version and no window.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

import normlock as nl
from normlock.registry import Registry

XSS_FEATURE = '<script>alert("feature")</script>'
XSS_MODEL = "<img src=x onerror=alert(1)>"
START = datetime(2025, 1, 6, tzinfo=UTC)
HOURS = 24
DRIFTED = (17, 21)


@dataclass(frozen=True)
class Populated:
    """What :func:`populate` stored."""

    locks: tuple[nl.Lock, ...]
    texts: tuple[str, ...]


def _columns(rng: np.random.Generator, rows: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    return {
        "amount": rng.lognormal(3, 0.5, rows) * scale,
        "age": rng.normal(41, 11, rows),
        XSS_FEATURE: rng.uniform(0, 1, rows),
    }


def populate(registry: Registry) -> Populated:
    """Fill ``registry`` as the module docs say."""
    rng = np.random.default_rng(11)
    spec = {"amount": ["log1p", "standard"], "age": "standard", XSS_FEATURE: "minmax"}
    first = nl.fit(_columns(rng, 500), spec).with_model(XSS_MODEL, "7")
    second = nl.fit(_columns(rng, 800), spec).with_model(XSS_MODEL, "8")
    third = second.with_model(XSS_MODEL, "9")
    texts = tuple(lock.to_json() for lock in (first, second, third))
    for text in texts:
        registry.push_text(text, "fraud")
    registry.promote("fraud@1", "production")
    registry.promote("fraud@3", "production")
    registry.rollback("fraud", "production")  # back to @1
    registry.promote("fraud@2", "production")
    registry.promote("fraud@3", "staging")
    registry.push(nl.fit({"tenure": rng.exponential(20, 300)}), "team/churn.v2")
    for hour in range(HOURS):
        start = START + timedelta(hours=hour)
        for source in ("eu", "us") if hour % 3 == 0 else ("eu",):
            monitor = second.monitor()
            monitor.update(_columns(rng, 150, scale=100.0 if hour in DRIFTED else 1.0))
            end = start + timedelta(hours=1)
            registry.record_profile("fraud@2", monitor.profile, start=start, end=end, source=source)
    return Populated((first, second, third), texts)


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(registry: Registry, **options: Any) -> Iterator[str]:
    """The web application over ``registry`` (``options`` go to ``create_app``) on
    loopback, in a thread; its base URL."""
    import uvicorn

    from normlock.integrations.web.app import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(registry, **options),
        host="127.0.0.1",
        port=port,
        log_level="error",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
