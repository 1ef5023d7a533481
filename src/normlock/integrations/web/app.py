"""The read-only web application (Starlette): pages, their JSON endpoints, ``/metrics``.

Every page has a JSON twin under ``/api`` built from the same data
(:mod:`normlock.integrations.web.views`); answers are kept until the registry changes
(:mod:`normlock.integrations.web.cache`). Only GET and HEAD are routed; errors answer
with a page (or JSON under ``/api``), never a traceback. Templates autoescape every
value, and a strict Content-Security-Policy allows no script at all.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from normlock.errors import ColumnNotFoundError, InputError, NormlockError
from normlock.integrations.web.cache import FRESH_FOR, AnswerCache, ChangeToken, Kept
from normlock.integrations.web.pages import Pages
from normlock.integrations.web.views import Views, moment_of, page_of, stage_of
from normlock.registry.errors import (
    NotFoundError,
    RegistryConnectionError,
    RegistryIntegrityError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from normlock.registry import Registry

log = logging.getLogger("normlock.web")

HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items() if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, sending)


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, allow_nan=False, separators=(",", ":"), default=str)
    return Response(body, status_code=status, media_type="application/json")


BUILDERS = 4
"""Threads building new answers at once: more would starve the event loop, which sends
every kept answer, of the interpreter lock."""

STATUS = [
    (ColumnNotFoundError, 404, "Not found"),
    (NotFoundError, 404, "Not found"),
    (RegistryIntegrityError, 500, "A stored lock failed verification"),
    (RegistryConnectionError, 503, "The registry cannot be reached"),
    (InputError, 400, "Bad request"),
    (NormlockError, 400, "Bad request"),
]
"""Library errors and the status each answers with (the first class that matches)."""


def create_app(registry: Registry, *, fresh_for: float = FRESH_FOR) -> Starlette:
    """The web application over ``registry`` (read-only; the caller closes the registry).

    Args:
        registry: what to show.
        fresh_for: seconds a change may take to show (see :mod:`.cache`).
    """
    views = Views(registry)
    pages = Pages(registry.url)
    cache = AnswerCache()
    token = ChangeToken(views.catalog.token, fresh_for)
    builders: list[anyio.CapacityLimiter] = []  # made in the event loop, on first use

    def kept(build: Callable[[Request], Response]) -> Callable[[Request], Awaitable[Response]]:
        """``build``'s answer, kept until the registry changes (see :mod:`.cache`); a kept
        answer is sent from the event loop, a new one is built in a worker thread."""

        async def endpoint(request: Request) -> Response:
            def built() -> Kept:
                answer = build(request)
                return Kept(bytes(answer.body), answer.status_code, answer.media_type or "")

            key = (await token.current(), request.url.path, request.url.query)
            found = cache.get(key)
            if found is None:
                if not builders:
                    builders.append(anyio.CapacityLimiter(BUILDERS))
                work = functools.partial(cache.answer, key, built)
                found = await anyio.to_thread.run_sync(work, limiter=builders[0])
            return Response(found.body, status_code=found.status, media_type=found.media_type)

        return endpoint

    def answer(request: Request, status: int, title: str, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return _json({"error": message, "status": status}, status)
        return HTMLResponse(pages.error(status, title, message), status_code=status)

    async def library_error(request: Request, exc: Exception) -> Response:
        for kind, status, title in STATUS:
            if isinstance(exc, kind):
                return answer(request, status, title, str(exc))
        raise exc

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = {404: f"nothing lives at {request.url.path}"}.get(exc.status_code, exc.detail)
        return answer(request, exc.status_code, str(exc.detail), message)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("error serving %s", request.url.path)
        return answer(request, 500, "Internal error", "the server failed; its log says why")

    def index(request: Request) -> Response:
        return HTMLResponse(pages.index(views.index()))

    def name_of(request: Request) -> dict[str, Any]:
        return views.name(request.path_params["name"], page_of(request.query_params.get("page")))

    def name(request: Request) -> Response:
        return HTMLResponse(pages.name(name_of(request)))

    def lock(request: Request) -> Response:
        return HTMLResponse(pages.lock(views.lock(request.path_params["ref"])))

    def download(request: Request) -> Response:
        pulled = registry.pull(request.path_params["ref"])
        filename = f"{pulled.version.name.replace('/', '_')}-{pulled.version.version}"
        disposition = f'attachment; filename="{filename}.normlock.json"'
        return Response(
            pulled.text.encode("utf-8"),
            media_type="application/json",
            headers={"content-disposition": disposition},
        )

    def diff(request: Request) -> Response:
        found = views.diff(request.query_params.get("a"), request.query_params.get("b"))
        return HTMLResponse(pages.diff(found, views.catalog.refs()))

    def windows_of(request: Request) -> dict[str, Any]:
        query = request.query_params
        return views.windows(
            request.path_params["name"],
            stage_of(query.get("stage")),
            page_of(query.get("page")),
            query.get("problems") == "1",
        )

    def windows(request: Request) -> Response:
        return HTMLResponse(pages.windows(windows_of(request)))

    def feature_of(request: Request, columns: bool = True) -> tuple[dict[str, Any], Any]:
        query = request.query_params
        if not query.get("feature"):
            raise InputError("give the feature to chart: ?feature=NAME")
        return views.feature(
            request.path_params["name"],
            query["feature"],
            stage_of(query.get("stage")),
            moment_of(query.get("since"), "since"),
            moment_of(query.get("until"), "until"),
            columns=columns,
        )

    def feature(request: Request) -> Response:
        return HTMLResponse(pages.feature(*feature_of(request, columns=False)))

    def metrics(request: Request) -> Response:
        from normlock.integrations.web.metrics import exposition

        return PlainTextResponse(
            exposition(views.catalog), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    def api(build: Callable[[Request], Any]) -> Callable[[Request], Awaitable[Response]]:
        def endpoint(request: Request) -> Response:
            return _json(build(request))

        return kept(endpoint)

    routes = [
        Route("/", kept(index)),
        Route("/names/{name:path}", kept(name)),
        Route("/locks/{ref:path}", kept(lock)),
        Route("/download/{ref:path}", download),
        Route("/diff", kept(diff)),
        Route("/windows/{name:path}", kept(windows)),
        Route("/features/{name:path}", kept(feature)),
        Route("/metrics", kept(metrics)),
        Route("/api/names", api(lambda r: views.index())),
        Route("/api/names/{name:path}", api(name_of)),
        Route("/api/locks/{ref:path}", api(lambda r: views.lock(r.path_params["ref"]))),
        Route(
            "/api/diff", api(lambda r: views.diff(r.query_params.get("a"), r.query_params.get("b")))
        ),
        Route("/api/windows/{name:path}", api(windows_of)),
        Route("/api/features/{name:path}", api(lambda r: feature_of(r)[0])),
    ]
    handlers: dict[Any, Any] = {
        NormlockError: library_error,
        HTTPException: http_error,
        Exception: server_error,
    }
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.add_middleware(SecurityHeaders)
    return app
