"""Benchmark: ``normlock serve`` under a steady load, on loopback only.

For each back end (an SQLite file, and a new database on the PostgreSQL server at
127.0.0.1:5432), builds a registry of 1,000 versions and 10,000 windows
(``registry_data.build``), starts the real ``normlock serve`` on 127.0.0.1, times each
main page's first answer, then sends an open-loop load: 200 requests a second for 10
seconds (2,000 requests, then it stops), cycling through the main pages (names, the
name's page, the production and staging locks, windows, each feature's charts, their
diff, /metrics), each round followed by two pages from the long tail (a random version,
a random page of windows). Latency is measured from each request's
scheduled time, so a stalled server shows in the tail. Reports p50/p90/p99/max and the
errors (any answer but 200), as a Markdown table.

    python bench/serve.py                       # both back ends, 200 req/s for 10 s
    python bench/serve.py --backend sqlite --rate 100 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from registry_data import FEATURES, NAME, build

HOST = "127.0.0.1"
CONNECTIONS = 32
ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main_pages() -> list[str]:
    """The pages people keep open: the names, the name's page, its production and staging
    locks, its windows (all, and those with findings), each feature's charts, the diff
    between production and staging, and /metrics."""
    return [
        "/",
        f"/names/{NAME}",
        f"/locks/{NAME}@production",
        f"/locks/{NAME}@staging",
        f"/windows/{NAME}",
        f"/windows/{NAME}?problems=1",
        *(f"/features/{NAME}?feature={feature}" for feature in FEATURES),
        f"/diff?a={NAME}@production&b={NAME}@staging",
        "/metrics",
    ]


def pages(versions: int, windows: int, seed: int) -> Iterator[str]:
    """The main pages in turn, each round followed by two from the long tail (a random
    version's lock, a random page of windows), which nothing has asked for yet."""
    rng = random.Random(seed)
    last_page = -(-windows // 50)
    while True:
        yield from main_pages()
        yield f"/locks/{NAME}@{rng.randint(1, versions)}"
        yield f"/windows/{NAME}?page={rng.randint(1, last_page)}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(url: str, workers: int) -> Iterator[str]:
    """``normlock serve`` on loopback in its own process group; its base URL."""
    port = _free_port()
    command = [sys.executable, "-m", "normlock.cli", "serve", "--registry", url]
    process = subprocess.Popen(
        [*command, "--host", HOST, "--port", str(port), "--workers", str(workers)],
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/not-a-page", timeout=2)  # any answer: it is up
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("normlock serve did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)


class Connection:
    """One keep-alive HTTP/1.1 connection to the server: a minimal client, so that the
    load generator spends far less time per request than the server it measures."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection(HOST, port))

    async def get(self, path: str) -> int:
        """Send ``GET path``; read the whole answer; its status."""
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int({k.lower(): v for k, v in headers.items()}["content-length"])
        await self.reader.readexactly(length)
        return int(lines[0].split()[1])

    def close(self) -> None:
        self.writer.close()


async def _load(base: str, paths: Iterator[str], rate: float, seconds: float) -> dict:
    """Open loop: request ``i`` is due at ``i / rate`` seconds; each waits for a free
    connection (at most :data:`CONNECTIONS`), and its latency counts from when it was due."""
    port = int(base.rsplit(":", 1)[1])
    total = int(rate * seconds)
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        idle.put_nowait(await Connection.open(port))
    latencies: list[float] = []
    errors: list[str] = []

    async def one(path: str, due: float) -> None:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        connection = await idle.get()
        try:
            status = await connection.get(path)
            if status != 200:
                errors.append(f"{status} {path}")
        except (OSError, asyncio.IncompleteReadError, ValueError, KeyError) as exc:
            errors.append(f"{type(exc).__name__} {path}")
            connection.close()
            connection = await Connection.open(port)
        latencies.append(time.perf_counter() - due)
        idle.put_nowait(connection)

    began = time.perf_counter() + 0.2
    await asyncio.gather(*(one(next(paths), began + i / rate) for i in range(total)))
    elapsed = time.perf_counter() - began
    while not idle.empty():
        idle.get_nowait().close()
    latencies.sort()
    return {
        "requests": total,
        "rate": total / elapsed,
        "errors": errors,
        **{f"p{q}": latencies[min(total - 1, int(q / 100 * total))] for q in (50, 90, 99)},
        "max": latencies[-1],
    }


def first_answers(base: str) -> dict[str, float]:
    """Each main page's first answer time, when nothing is kept yet."""
    found = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for path in main_pages():
            began = time.perf_counter()
            assert client.get(path).status_code == 200, path
            found[path] = time.perf_counter() - began
    return found


@contextmanager
def registry_url(backend: str, folder: Path, admin: str) -> Iterator[str]:
    """An empty registry: a new SQLite file, or a new PostgreSQL database dropped after."""
    if backend == "sqlite":
        yield str(folder / "registry.sqlite3")
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"normlock_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--windows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1, help="normlock serve --workers")
    parser.add_argument("--postgres", default=os.environ.get("NORMLOCK_TEST_POSTGRES", ADMIN))
    options = parser.parse_args()
    backends = ["sqlite", "postgresql"] if options.backend == "both" else [options.backend]
    firsts, loads = {}, {}
    for backend in backends:
        with (
            tempfile.TemporaryDirectory() as folder,
            registry_url(backend, Path(folder), options.postgres) as url,
        ):
            began = time.perf_counter()
            build(url, version_count=options.versions, window_count=options.windows)
            print(f"{backend}: built in {time.perf_counter() - began:.1f} s", file=sys.stderr)
            with server(url, options.workers) as base:
                firsts[backend] = first_answers(base)
                paths = pages(options.versions, options.windows, seed=1)
                loads[backend] = asyncio.run(_load(base, paths, options.rate, options.seconds))
        if loads[backend]["errors"]:
            print(f"{backend}: errors, e.g. {loads[backend]['errors'][:3]}", file=sys.stderr)
    print("| first answer of | " + " | ".join(backends) + " |")
    print("|---|" + "---|" * len(backends))
    for path in main_pages():
        cells = " | ".join(f"{1000 * firsts[b][path]:.0f} ms" for b in backends)
        print(f"| `{path}` | {cells} |")
    print()
    headers = ("back end", "requests", "achieved rate", "errors", "p50", "p90", "p99", "max")
    print("| " + " | ".join(headers) + " |")
    print("|---" * len(headers) + "|")
    for backend, r in loads.items():
        ms = " | ".join(f"{1000 * r[k]:.1f} ms" for k in ("p50", "p90", "p99", "max"))
        print(f"| {backend} | {r['requests']:,} | {r['rate']:.0f}/s | {len(r['errors'])} | {ms} |")


if __name__ == "__main__":
    main()
