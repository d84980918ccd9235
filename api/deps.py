"""Dependencies as typed aliases, so routes stay short and tests can override them.

``SettingsDep``, ``StoreDep``, ``RecommenderDep``, ``PrincipalDep`` and
``RoleDep`` read what the lifespan put on ``app.state``; override the
functions with ``app.dependency_overrides`` in tests. ``allow(Action...)``
guards a route by role.

They are ``async`` because none of them blocks: FastAPI runs a plain ``def``
dependency in its thread pool, one thread hop each, and under load those hops
(and the GIL hand-offs between dozens of pool threads) cost more CPU than the
ranking itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.metrics import Metrics
from api.security import PERMISSIONS, Action, KeyRing, Principal, RateLimiter, Role
from api.serving import ModelHolder
from recommender.settings import Settings
from recommender.store import Store

if TYPE_CHECKING:
    from recommender.service import Recommender
else:
    Recommender = Any

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key (or send it as `Authorization: Bearer <key>`)")
bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def get_model_holder(request: Request) -> ModelHolder:
    return request.app.state.models


async def get_recommender(request: Request) -> Recommender:
    """The model serving now, taken once per request (a swap mid-request does not affect it).

    Reads the holder from ``app.state`` itself rather than through ``get_model_holder``: every
    dependency FastAPI resolves costs CPU on each request, and this one is on the ranking path.
    """
    holder: ModelHolder = request.app.state.models
    model = holder.current
    if model is None:
        raise ApiError(503, "model_unavailable", f"no model is loaded: {holder.error}", headers={"Retry-After": "30"})
    return model


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ModelHolderDep = Annotated[ModelHolder, Depends(get_model_holder)]
RecommenderDep = Annotated[Recommender, Depends(get_recommender)]


async def get_principal(
    request: Request,
    api_key: Annotated[str | None, Security(api_key_header)] = None,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> Principal:
    """Authenticate the key (401) and spend one token of its rate limit (429)."""
    key = api_key or (credentials.credentials if credentials is not None else None)
    if not key:
        raise ApiError(401, "unauthorized", "missing API key: send it in the X-API-Key header", headers={"WWW-Authenticate": "Bearer"})
    keyring: KeyRing = request.app.state.keyring
    principal = keyring.authenticate(key)
    if principal is None:
        raise ApiError(401, "unauthorized", "unknown API key", headers={"WWW-Authenticate": "Bearer"})
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.take(principal.key_id)
    if wait > 0:
        retry = limiter.retry_after(wait)
        raise ApiError(429, "rate_limited", f"rate limit exceeded; retry after {retry} s", headers={"Retry-After": retry})
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_role(principal: PrincipalDep) -> Role:
    return principal.role


RoleDep = Annotated[Role, Depends(get_role)]


def check_allowed(role: Role, action: Action) -> Role:
    """``role`` if it may do ``action``; 403 ``forbidden`` naming the roles that may otherwise."""
    allowed = PERMISSIONS[action]
    if role not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise ApiError(403, "forbidden", f"a {role.value} key may not {action.value.replace('_', ' ')} (allowed: {names})")
    return role


def allow(action: Action) -> Callable[[Role], Role]:
    """A dependency that lets through only the roles that may do ``action`` (403 otherwise)."""

    async def check(role: RoleDep) -> Role:
        return check_allowed(role, action)

    check.__name__ = f"allow_{action.value}"
    return check
