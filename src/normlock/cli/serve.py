"""``normlock serve``: the registry in a browser (read-only)."""

from __future__ import annotations

from typing import Annotated

import typer

from normlock.cli.common import app, console, guarded
from normlock.cli.registry import RegistryOption


@app.command()
@guarded
def serve(
    registry: RegistryOption = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (loopback: only this machine can read).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes answering requests (more use more cores).")
    ] = 1,
    log_requests: Annotated[bool, typer.Option(help="Log every request.")] = False,
) -> None:
    """Browse the registry: names, versions, aliases and their history, each lock, diffs,
    served-data charts per feature, /metrics for Prometheus, and JSON under /api.

    Read-only; it binds to loopback unless --host says otherwise (it has no login: put a
    proxy with authentication in front of it before opening it to a network).

    Examples:

        normlock serve --registry demo/registry.sqlite3

        normlock serve --registry postgresql+psycopg://viewer@db/normlock --port 9000

        normlock serve --registry registry.sqlite3 --workers 2
    """
    from normlock.integrations.web.server import is_loopback
    from normlock.integrations.web.server import serve as run

    out = console(stderr=True)
    if not is_loopback(host):
        out.print(
            f"[bold yellow]warning:[/] listening on {host}: anyone who can reach it reads the "
            "registry (no login)",
            soft_wrap=True,
        )

    def started(base: str) -> None:
        out.print(f"serving the registry at {base} (Ctrl+C to stop)", soft_wrap=True)

    level = "info" if log_requests else "warning"
    run(registry, host, port, workers=workers, log_level=level, started=started)
