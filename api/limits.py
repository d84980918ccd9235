"""Request body size limit (413), enforced before a route reads the body.

A declared ``Content-Length`` over the limit is refused at once; a chunked
body is counted as it streams and refused as soon as it passes the limit, so
an oversized upload is never held in memory whole.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, error_response


def too_large(limit: int) -> tuple[str, str]:
    """The error code and detail of a body over ``limit`` bytes."""
    return "payload_too_large", f"request body larger than {limit} bytes (RECOMMENDER_MAX_BODY_BYTES)"


def declared_too_large(scope: Scope, max_bytes: int) -> bool:
    """Whether a ``Content-Length`` header of the request declares more than ``max_bytes``."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                declared = -1
            if declared > max_bytes:
                return True
    return False


def limited_receive(receive: Receive, max_bytes: int) -> Receive:
    """``receive`` that raises 413 ``payload_too_large`` as soon as the body streamed passes ``max_bytes``."""
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > max_bytes:
                raise ApiError(413, *too_large(max_bytes))
        return message

    return limited


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if declared_too_large(scope, self.max_bytes):
            await error_response(413, *too_large(self.max_bytes))(scope, receive, send)
            return
        await self.app(scope, limited_receive(receive, self.max_bytes), send)
