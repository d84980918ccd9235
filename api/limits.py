"""Request body size limit (413), enforced before a route reads the body.

A declared ``Content-Length`` over the limit is refused at once; a chunked
body is counted as it streams and refused as soon as it passes the limit, so
an oversized upload is never held in memory whole.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, error_response


def _too_large(limit: int) -> tuple[str, str]:
    return "payload_too_large", f"request body larger than {limit} bytes (RECOMMENDER_MAX_BODY_BYTES)"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        code, detail = _too_large(self.max_bytes)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await error_response(413, code, detail)(scope, receive, send)
                    return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise ApiError(413, code, detail)
            return message

        await self.app(scope, limited_receive, send)
