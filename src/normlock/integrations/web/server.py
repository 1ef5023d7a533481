"""Running the web application: uvicorn on loopback unless told otherwise."""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.applications import Starlette

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
URL_VARIABLE = "NORMLOCK_SERVE_REGISTRY"
"""How worker processes learn the registry URL (the environment, never the command line)."""


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address (127.0.0.0/8, ::1)."""
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)


def from_environment() -> Starlette:
    """The application over the registry named by :data:`URL_VARIABLE` (for workers)."""
    from normlock.integrations.web.app import create_app
    from normlock.registry import Registry

    return create_app(Registry(os.environ.get(URL_VARIABLE) or None))


def serve(
    url: str | None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    workers: int = 1,
    log_level: str = "warning",
    started: Callable[[str], None] | None = None,
) -> None:
    """Serve the registry at ``url`` until interrupted.

    Args:
        url: the registry (see :class:`~normlock.registry.Registry`).
        host: the address to bind; loopback by default, so only this machine can read.
        port: the TCP port.
        workers: processes answering requests (each with its own connections and kept
            answers); more than one uses more cores.
        log_level: uvicorn's log level (``info`` logs every request).
        started: called with the base URL once the registry is open, before serving.
    """
    import uvicorn

    from normlock.integrations.web.app import create_app
    from normlock.registry import Registry

    shown = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
    options: dict[str, Any] = {"host": host, "port": port, "log_level": log_level}
    with Registry(url) as registry:  # opened here first: a bad URL fails before serving
        if started is not None:
            started(shown)
        if workers == 1:
            uvicorn.run(create_app(registry), access_log=False, **options)
            return
    os.environ[URL_VARIABLE] = url or ""
    target = "normlock.integrations.web.server:from_environment"
    uvicorn.run(target, factory=True, workers=workers, access_log=False, **options)
