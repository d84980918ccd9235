"""One pure-ASGI layer for what every HTTP request goes through on its way in and out.

Outermost first, as the separate middlewares were stacked:

1. the counsellor page's session key (``api.web.router.session_scope``, for ``/v1/`` paths);
2. the security headers on every response (``api.headers``), refusals included;
3. metrics: the latency and status of each request by route template (``api.metrics``);
4. the request body limit (``api.limits``): a declared ``Content-Length`` over it is
   refused with 413 at once, a streamed body as soon as it passes it.

Each separate layer cost a coroutine and a wrapped ``send`` per request; here
there is one of each. With CORS configured the body limit must run inside the
CORS middleware (so a 413 carries the CORS headers): ``create_app`` then leaves
``max_bytes`` unset here and adds ``BodyLimitMiddleware`` inside CORS.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from api.headers import with_security_headers
from api.limits import declared_too_large, limited_receive, too_large
from api.metrics import Metrics

SessionScope = Callable[[Scope], Scope]


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        *,
        max_bytes: int | None = None,
        session_scope: SessionScope | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_bytes = max_bytes
        self.session_scope = session_scope
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.session_scope is not None and scope.get("path", "").startswith("/v1/"):
            scope = self.session_scope(scope)
        start = self.clock()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {**message, "headers": with_security_headers(list(message.get("headers", [])))}
            await send(message)

        try:
            max_bytes = self.max_bytes
            if max_bytes is None:
                await self.app(scope, receive, send_wrapper)
            elif declared_too_large(scope, max_bytes):
                await error_response(413, *too_large(max_bytes))(scope, receive, send_wrapper)
            else:
                await self.app(scope, limited_receive(receive, max_bytes), send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope.get("method", "GET"), template, status, self.clock() - start)
