"""Routes of the counsellors' page, its session cookie, and ``POST /v1/profile/understood``.

- ``GET /web/`` the page; ``GET /web/static/{name}`` its CSS and JS (a fixed list of files);
- ``GET|POST|DELETE /web/session`` who is signed in / sign in with a key / sign out;
- ``POST /v1/profile/understood`` a worker's profile as the system reads it: normalised
  skills and certificates with their confidence, home county and current place, age band.

Every page response carries a strict Content-Security-Policy (no inline script or style),
``X-Content-Type-Options``, ``Referrer-Policy``, ``X-Frame-Options`` and ``frame-ancestors``.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from starlette.types import Scope

from api.deps import RoleDep, SettingsDep, StoreDep, allow
from api.errors import ERROR_RESPONSES, ApiError, ErrorItem
from api.records import get_record
from api.security import PERMISSIONS, Action, KeyRing, RateLimiter, Role
from recommender.contract import BY_NAME
from recommender.schemas import WorkerProfile
from recommender.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
#: The only files served under /web/static/, with their media types.
STATIC_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
COOKIE = "rec_key"
#: Header the page sends with every API call; the cookie is honoured only with it (a cross-site
#: form or image cannot set it, and a cross-origin fetch with it needs a CORS preflight we never allow).
MARKER_HEADER = "x-requested-with"
MARKER_VALUE = "recommender-web"
PAGE_ROLES = frozenset({Role.counsellor, Role.admin})

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _secure(response: Response, *, cache: bool = False) -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-cache" if cache else "no-store"
    return response


router = APIRouter()


# ---------------------------------------------------------------- the page


@router.get("/web", include_in_schema=False)
def web_root() -> Response:
    return _secure(RedirectResponse("/web/", status_code=307))


@router.get("/web/", include_in_schema=False)
def web_page() -> Response:
    return _secure(FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8"))


@router.get("/web/static/{name}", include_in_schema=False)
def web_static(name: str) -> Response:
    media = STATIC_FILES.get(name)
    if media is None:
        raise ApiError(404, "not_found", f"no file {name}")
    return _secure(FileResponse(STATIC / name, media_type=media), cache=True)


# ---------------------------------------------------------------- the session


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class SessionOut(BaseModel):
    role: Role
    can_save_workers: bool = Field(description="the role may create worker records (PUT /v1/workers/{id})")
    older_worker_age: int


def _session(role: Role, settings: Settings) -> SessionOut:
    return SessionOut(role=role, can_save_workers=role in PERMISSIONS[Action.write_records], older_worker_age=settings.older_worker_age)


def _cookie_key(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


@router.get("/web/session", response_model=SessionOut, include_in_schema=False)
def get_session(request: Request, settings: SettingsDep) -> Any:
    keyring: KeyRing = request.app.state.keyring
    principal = keyring.authenticate(_cookie_key(request))
    if principal is None or principal.role not in PAGE_ROLES:
        return _secure(JSONResponse({"code": "unauthorized", "detail": "not signed in", "errors": []}, status_code=401))
    return _secure(JSONResponse(_session(principal.role, settings).model_dump(mode="json")))


@router.post("/web/session", response_model=SessionOut, include_in_schema=False)
def post_session(body: SessionIn, request: Request, settings: SettingsDep) -> Any:
    """Sign in: check the key, then keep it in an HttpOnly, SameSite=Strict cookie for the browser session."""
    if request.headers.get(MARKER_HEADER) != MARKER_VALUE:
        raise ApiError(403, "forbidden", "sign in from the counsellors' page")
    limiter: RateLimiter = request.app.state.rate_limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.take(f"web-login:{client}")
    if wait > 0:
        retry = limiter.retry_after(wait)
        raise ApiError(429, "rate_limited", f"too many sign-in attempts; retry after {retry} s", headers={"Retry-After": retry})
    keyring: KeyRing = request.app.state.keyring
    principal = keyring.authenticate(body.key.strip())
    if principal is None:
        raise ApiError(401, "unauthorized", "unknown key", [ErrorItem(loc=["body", "key"], msg="unknown key")])
    if principal.role not in PAGE_ROLES:
        raise ApiError(403, "forbidden", f"a {principal.role.value} key cannot use the counsellors' page (counsellor or admin keys only)")
    response = JSONResponse(_session(principal.role, settings).model_dump(mode="json"))
    response.set_cookie(
        COOKIE, body.key.strip(), httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/",
    )
    return _secure(response)


@router.delete("/web/session", status_code=204, include_in_schema=False)
def delete_session(request: Request) -> Response:
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return _secure(response)


_MARKER = MARKER_HEADER.encode()


def session_scope(scope: Scope) -> Scope:
    """``scope`` with the session cookie's key added as ``X-API-Key`` when the rules above allow it, else ``scope``.

    Only when the request has no key of its own, carries the page's marker header, and its
    ``Origin`` (if any) is this host: a cross-site request can neither set the marker without
    a CORS preflight nor send a SameSite=Strict cookie. Requests without the marker header
    (every client but the page) return at once. ``api.edge.EdgeMiddleware`` calls this for ``/v1/`` requests.
    """
    headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
    if not any(k.lower() == _MARKER for k, _ in headers):
        return scope
    found = {k.lower(): v for k, v in headers}
    if (
        b"x-api-key" not in found
        and b"authorization" not in found
        and found.get(_MARKER) == MARKER_VALUE.encode()
        and b"cookie" in found
        and _same_origin(found, scope)
    ):
        key = _cookie_value(found[b"cookie"].decode("latin-1"))
        if key:
            return {**scope, "headers": [*headers, (b"x-api-key", key.encode("latin-1"))]}
    return scope


def _cookie_value(header: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


def _same_origin(headers: dict[bytes, bytes], scope: Scope) -> bool:
    origin = headers.get(b"origin")
    if origin is None:
        return True  # same-origin GETs do not send it; SameSite=Strict already keeps the cookie off cross-site requests
    host = headers.get(b"host", b"").decode("latin-1")
    scheme = scope.get("scheme", "http")
    return origin.decode("latin-1") == f"{scheme}://{host}"


# ---------------------------------------------------------------- the understood profile


class UnderstoodRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"profile": {"birth_year": 1972, "home_region": "河南省固始县", "skills": "会电焊，开过叉车；砌墙", "certificates": "焊工证"}},
        {"worker_id": "W0000001"},
    ]})

    worker_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(None, description="a stored worker (counsellor and admin keys)")
    profile: WorkerProfile | None = Field(None, description="a worker described inline")
    as_of: dt.date | None = Field(None, description="the day the age is counted on (default: today)")

    @model_validator(mode="after")
    def _one_of(self) -> UnderstoodRequest:
        if (self.worker_id is None) == (self.profile is None):
            raise ValueError("send exactly one of worker_id or profile")
        return self


class UnderstoodItem(BaseModel):
    text: str = Field(description="what was written")
    id: str | None = Field(description="taxonomy id, or null when not understood")
    name_zh: str | None = None
    name_en: str | None = None
    confidence: float = Field(description="0..1; below the normaliser's threshold the item stays unknown")


class UnderstoodRegion(BaseModel):
    text: str
    code: str | None = None
    name: str | None = None
    full_name: str | None = None
    level: str | None = None
    error: str | None = Field(None, description="why the text was not understood as a place")


class UnderstoodProfile(BaseModel):
    worker_id: str | None
    skills: list[UnderstoodItem]
    certificates: list[UnderstoodItem]
    home_region: UnderstoodRegion
    current_region: UnderstoodRegion | None
    birth_year: int
    age: int
    age_band: str = Field(description="under 30, 30-49 or 50+ (the bands of the evaluation)")
    older_worker: bool = Field(description="older-worker assistance applies (age >= RECOMMENDER_OLDER_WORKER_AGE)")
    older_worker_age: int
    expected_wage: float | None = None
    mobility: str | None = None
    education: str | None = None
    experience_years: float | None = None


@lru_cache(maxsize=4)
def _normalisers(taxonomy_extra: str | None) -> tuple[Any, Any, dict[str, str], dict[str, str]]:
    """Skill and certificate normalisers and English names, built once per taxonomy (about 2 s)."""
    from recommender.normalise import CertificateNormaliser, SkillNormaliser
    from recommender.taxonomy import load_taxonomy

    tax = load_taxonomy(taxonomy_extra)
    skills_en = dict(zip(tax.skills["skill_id"], tax.skills["name_en"], strict=True))
    certs_en = dict(zip(tax.certificates["cert_id"], tax.certificates["name_en"], strict=True))
    return SkillNormaliser(tax), CertificateNormaliser(tax), skills_en, certs_en


def _items(normaliser: Any, english: dict[str, str], value: Any) -> list[UnderstoodItem]:
    if value is None or value == [] or value == "":
        return []
    cell = ";".join(str(v) for v in value) if isinstance(value, list) else str(value)
    out = []
    for m in normaliser.match(cell):
        en = english.get(m.id) if m.id else None
        out.append(UnderstoodItem(text=m.surface, id=m.id, name_zh=m.name, name_en=en if isinstance(en, str) and en else None,
                                  confidence=round(float(m.score), 3)))
    return out


def _region(text: Any) -> UnderstoodRegion | None:
    from recommender.regions import RegionIndex

    if text is None or str(text).strip() == "":
        return None
    raw = str(text).strip()
    try:
        r = RegionIndex.default().resolve(raw)
    except Exception as exc:  # an unknown place is shown, not an error of this endpoint
        return UnderstoodRegion(text=raw, error=str(exc))
    return UnderstoodRegion(text=raw, code=r.code, name=r.name, full_name=r.full_name, level=r.level)


def _band(age: int) -> str:
    return "under 30" if age < 30 else ("30-49" if age < 50 else "50+")


def _num(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


@router.post(
    "/v1/profile/understood",
    response_model=UnderstoodProfile,
    tags=["recommendations"],
    responses={**ERROR_RESPONSES, 404: {"description": "unknown worker id"}},
    dependencies=[Depends(allow(Action.recommend_profile))],
    summary="A profile as the system understood it",
    description=(
        "Normalised skills and certificates with their confidence (unknown items have `id: null`), "
        "home county and current place resolved from codes or names, age and age band, and whether "
        "older-worker assistance applies. Nothing is stored."
    ),
)
def understood(req: UnderstoodRequest, role: RoleDep, store: StoreDep, settings: SettingsDep) -> Any:
    if req.worker_id is not None:
        if role not in PERMISSIONS[Action.read_records]:
            raise ApiError(403, "forbidden", f"a {role.value} key may only send inline profiles, not stored worker ids")
        data = get_record(store, BY_NAME["workers"], req.worker_id)
        if data is None:
            raise ApiError(404, "not_found", f"worker {req.worker_id} not found",
                           [ErrorItem(loc=["body", "worker_id"], msg=f"unknown worker {req.worker_id}")])
    else:
        data = req.profile.model_dump()  # type: ignore[union-attr]
    skills, certs, skills_en, certs_en = _normalisers(str(settings.taxonomy_extra) if settings.taxonomy_extra else None)
    day = req.as_of or dt.date.today()
    birth = int(data["birth_year"])
    age = day.year - birth
    home = _region(data.get("home_region")) or UnderstoodRegion(text="", error="no home county given")
    return UnderstoodProfile(
        worker_id=data.get("worker_id"),
        skills=_items(skills, skills_en, data.get("skills")),
        certificates=_items(certs, certs_en, data.get("certificates")),
        home_region=home,
        current_region=_region(data.get("current_region")),
        birth_year=birth,
        age=age,
        age_band=_band(age),
        older_worker=age >= settings.older_worker_age,
        older_worker_age=settings.older_worker_age,
        expected_wage=_num(data.get("expected_wage")),
        mobility=data.get("mobility"),
        education=data.get("education"),
        experience_years=_num(data.get("experience_years")),
    )


# ---------------------------------------------------------------- wiring


def install_web(app: FastAPI) -> None:
    """Serve the page on ``app``; its session key reaches ``/v1`` calls through ``session_scope``,
    which ``api.edge.EdgeMiddleware`` applies."""
    app.include_router(router)
