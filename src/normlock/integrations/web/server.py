"""Running the web application: uvicorn on loopback unless told otherwise."""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address (127.0.0.0/8, ::1)."""
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)


def serve(
    url: str | None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    log_level: str = "warning",
    started: Callable[[str], None] | None = None,
) -> None:
    """Serve the registry at ``url`` until interrupted.

    Args:
        url: the registry (see :class:`~normlock.registry.Registry`).
        host: the address to bind; loopback by default, so only this machine can read.
        port: the TCP port.
        log_level: uvicorn's log level (``info`` logs every request).
        started: called with the base URL once the registry is open, before serving.
    """
    import uvicorn

    from normlock.integrations.web.app import create_app
    from normlock.registry import Registry

    with Registry(url) as registry:
        app = create_app(registry)
        shown = f"[{host}]" if ":" in host else host
        if started is not None:
            started(f"http://{shown}:{port}/")
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
