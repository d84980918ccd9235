"""One JSON shape for every error the service returns.

``{"code": ..., "detail": ..., "errors": [{"loc": [...], "msg": ...}]}``: the
``code`` is stable (clients branch on it), ``detail`` is for people, and
``errors`` points at the offending field. Handlers here turn framework,
library and database exceptions into that shape, so bad input never ends as
an HTML page or a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from recommender.errors import ContractError, NotFoundError, RecommenderError, UnknownRegionError

log = logging.getLogger("api")

Loc = list[str | int]


class ErrorItem(BaseModel):
    loc: Loc = Field(default_factory=list, description="path of the offending field, e.g. ['body', 'profile', 'birth_year']")
    msg: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    code: str = Field(description="stable machine-readable code, e.g. not_found, validation_error")
    detail: str
    errors: list[ErrorItem] = Field(default_factory=list)


# Shown in the OpenAPI document for routes that can answer with these.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing or unknown API key (`unauthorized`)"},
    403: {"model": ErrorBody, "description": "the key's role may not do this (`forbidden`)"},
    422: {"model": ErrorBody, "description": "invalid input, with the field path (`validation_error`)"},
    429: {"model": ErrorBody, "description": "rate limit of the key exceeded (`rate_limited`, see Retry-After)"},
}


class ApiError(HTTPException):
    """An HTTP error with a stable code; raised only in routes and dependencies."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        errors: Iterable[ErrorItem | dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)
        self.code = code
        self.errors = [e if isinstance(e, ErrorItem) else ErrorItem(**e) for e in errors]


def error_response(
    status: int, code: str, detail: str, errors: Sequence[ErrorItem] = (), headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(code=code, detail=detail, errors=list(errors))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


_STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


def _loc(value: Any) -> Loc:
    return [p if isinstance(p, int) else str(p) for p in (value or ())]


def validation_items(errors: Iterable[dict[str, Any]]) -> list[ErrorItem]:
    """Pydantic error dicts -> ``{loc, msg}`` items (inputs are not echoed back)."""
    return [ErrorItem(loc=_loc(e.get("loc")), msg=str(e.get("msg", "invalid value"))) for e in errors]


def status_for(exc: RecommenderError) -> int:
    """HTTP status of a library error: bad input is 4xx, never 500."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, (ContractError, UnknownRegionError)):
        return 422
    from recommender.registry import RegistryError

    if isinstance(exc, RegistryError):
        return 409
    if isinstance(exc, (ValueError, LookupError)):
        return 422
    return 500


def recommender_error_items(exc: RecommenderError, prefix: Sequence[str | int] = ()) -> list[ErrorItem]:
    """Row errors a library error carries (``.errors`` with column and reason), as field paths."""
    items = []
    for e in getattr(exc, "errors", None) or ():
        column = getattr(e, "column", None) if not isinstance(e, dict) else e.get("column")
        reason = getattr(e, "reason", None) if not isinstance(e, dict) else e.get("reason")
        loc = [*prefix, column] if column else list(prefix)
        items.append(ErrorItem(loc=_loc(loc), msg=str(reason or e)))
    return items


def install_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the common JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.code, str(exc.detail), exc.errors, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error" if exc.status_code < 500 else "server_error")
        detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        return error_response(exc.status_code, code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        items = validation_items(exc.errors())
        first = items[0] if items else None
        detail = "invalid request" + (f": {'.'.join(map(str, first.loc))}: {first.msg}" if first else "")
        return error_response(422, "validation_error", detail, items)

    @app.exception_handler(RecommenderError)
    async def _library(request: Request, exc: RecommenderError) -> JSONResponse:
        status = status_for(exc)
        if status >= 500:
            log.exception("library error", exc_info=exc)
        code = getattr(exc, "code", "error") or "error"
        if status == 422 and code in ("error", "contract_error"):
            code = "validation_error" if getattr(exc, "errors", None) else code
        return error_response(status, code, str(exc), recommender_error_items(exc))

    @app.exception_handler(OperationalError)
    async def _store_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("store unavailable: %s", exc.orig)
        return error_response(503, "store_unavailable", "the record store is unavailable; try again later", headers={"Retry-After": "5"})

    @app.exception_handler(DBAPIError)
    async def _store_error(request: Request, exc: DBAPIError) -> JSONResponse:
        log.error("store error: %s", exc.orig)
        return error_response(503, "store_unavailable", "the record store could not answer; try again later", headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal_error", "internal error; the service log has the details")
