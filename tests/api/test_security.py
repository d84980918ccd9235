"""Keys, roles and limits: who may call what, and how refusals look."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apitest_support import ADMIN, FILES, PORTAL, ROLES, fake_loader, headers, make_settings, save_bundle
from api.main import create_app
from api.security import DEV_KEYS, KeyRing, RateLimiter, Role
from recommender.errors import ConfigError
from recommender.settings import Settings

PROFILE = {"birth_year": 1980, "home_region": "510112", "skills": ["电焊"]}
WORKER = {"birth_year": 1985, "home_region": "510112", "skills": "电焊;钢筋绑扎"}
JOB = {"title": "钢筋工", "region": "440305", "posted_on": "2024-05-01"}
COURSE = {"title": "电工培训", "region": "510112"}
EMPLOYER = {"name": "某建筑公司", "industry": "建筑业"}
OUTCOME = [{"worker_id": "W2", "item_type": "job", "item_id": "J3", "outcome": "applied", "date": "2024-05-03"}]

# (method, path, body kind, body) -> expected status for admin, counsellor, portal, no key
OK3 = (200, 200, 200, 401)
STAFF = (200, 200, 403, 401)
ADMIN_ONLY = (200, 403, 403, 401)
OPEN = (200, 200, 200, 200)
TABLE: list[tuple[str, str, str | None, Any, tuple[int, int, int, int]]] = [
    ("GET", "/healthz", None, None, OPEN),
    ("GET", "/readyz", None, None, OPEN),
    ("GET", "/metrics", None, None, OPEN),
    ("GET", "/openapi.json", None, None, OPEN),
    ("GET", "/docs", None, None, OPEN),
    ("GET", "/v1/summary", None, None, STAFF),
    ("GET", "/v1/workers", None, None, STAFF),
    ("GET", "/v1/workers/W1", None, None, STAFF),
    ("PUT", "/v1/workers/W1", "json", WORKER, ADMIN_ONLY),
    ("GET", "/v1/jobs", None, None, STAFF),
    ("GET", "/v1/jobs/J1", None, None, STAFF),
    ("PUT", "/v1/jobs/J1", "json", JOB, ADMIN_ONLY),
    ("GET", "/v1/courses", None, None, STAFF),
    ("GET", "/v1/courses/C1", None, None, STAFF),
    ("PUT", "/v1/courses/C1", "json", COURSE, ADMIN_ONLY),
    ("GET", "/v1/employers", None, None, STAFF),
    ("GET", "/v1/employers/E1", None, None, STAFF),
    ("PUT", "/v1/employers/E1", "json", EMPLOYER, ADMIN_ONLY),
    ("POST", "/v1/recommendations/jobs", "json", {"profile": PROFILE}, OK3),
    ("POST", "/v1/recommendations/jobs", "json", {"worker_id": "W1"}, STAFF),
    ("POST", "/v1/recommendations/courses", "json", {"profile": PROFILE}, OK3),
    ("POST", "/v1/recommendations/courses", "json", {"worker_id": "W1"}, STAFF),
    ("POST", "/v1/recommendations/batch", "json", {"workers": [PROFILE, PROFILE]}, OK3),
    ("POST", "/v1/recommendations/batch", "json", {"workers": ["W1", PROFILE]}, STAFF),
    ("POST", "/v1/outcomes", "json", OUTCOME, STAFF),
    ("GET", "/v1/outcomes", None, None, STAFF),
    ("POST", "/v1/imports", "files", None, ADMIN_ONLY),
    ("GET", "/v1/models", None, None, ADMIN_ONLY),
    ("POST", "/v1/models/v2/promote", None, None, ADMIN_ONLY),
    ("POST", "/v1/models/rollback", None, None, ADMIN_ONLY),
]


@pytest.fixture(scope="module")
def table_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the whole table (v1 then v2 promoted, so a rollback has somewhere to go)."""
    from recommender.ingest import ingest
    from recommender.store import Store

    from apitest_support import write_world

    tmp = tmp_path_factory.mktemp("table")
    settings = make_settings(tmp)
    ingest(write_world(tmp / "world"), Store(settings.db))
    save_bundle(settings, "v1", promote=True)
    save_bundle(settings, "v2", promote=True)
    with TestClient(create_app(settings, loader=fake_loader)) as client:
        yield client


def _call(client: TestClient, method: str, path: str, kind: str | None, body: Any, role: str | None) -> int:
    kwargs: dict[str, Any] = {"headers": headers(role)}
    if kind == "json":
        kwargs["json"] = body
    elif kind == "files":
        kwargs["files"] = [("files", ("employers.csv", io.BytesIO(FILES["employers"].encode()), "text/csv"))]
    return client.request(method, path, **kwargs).status_code


@pytest.mark.parametrize(
    ("method", "path", "kind", "body", "role", "expected"),
    [
        pytest.param(m, p, k, b, role, exp[i], id=f"{m} {p} {'id' if b and 'worker_id' in str(b) or b and 'W1' in str(b) else ''} {role or 'nokey'}")
        for m, p, k, b, exp in TABLE
        for i, role in enumerate((*ROLES, None))
    ],
)
def test_route_role_table(table_client: TestClient, method: str, path: str, kind: str | None, body: Any, role: str | None, expected: int) -> None:
    got = _call(table_client, method, path, kind, body, role)
    if path == "/v1/models/rollback" and role == "admin":
        assert got in (200, 409)  # 409 once the history has been rolled back already
    elif path.startswith("/v1/models/") and "promote" in path and role == "admin":
        assert got == 200
    else:
        assert got == expected


def test_refusals_have_codes(client: TestClient) -> None:
    r = client.get("/v1/workers/W1")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert "X-API-Key" in r.json()["detail"]
    r = client.get("/v1/workers/W1", headers={"X-API-Key": "not-a-key"})
    assert r.status_code == 401 and r.json() == {"code": "unauthorized", "detail": "unknown API key", "errors": []}
    r = client.get("/v1/workers/W1", headers=headers("portal"))
    assert r.status_code == 403 and r.json()["code"] == "forbidden" and "portal" in r.json()["detail"]
    r = client.post("/v1/recommendations/jobs", json={"worker_id": "W1"}, headers=headers("portal"))
    assert r.status_code == 403 and r.json()["errors"][0]["loc"] == ["body", "worker_id"]
    r = client.post("/v1/recommendations/batch", json={"workers": [PROFILE, "W1"]}, headers=headers("portal"))
    assert r.status_code == 403 and r.json()["errors"][0]["loc"] == ["body", "workers", 1]


def test_bearer_token_is_accepted(client: TestClient) -> None:
    assert client.get("/v1/workers/W1", headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 200
    assert client.get("/v1/workers/W1", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/v1/workers/W1", headers={"Authorization": f"Basic {ADMIN}"}).status_code == 401


def test_keys_are_kept_hashed() -> None:
    ring = KeyRing([(ADMIN, Role.admin), (PORTAL, Role.portal)])
    assert ADMIN not in repr(vars(ring)) and ADMIN.encode() not in b"".join(d for d, _ in ring._entries)
    p = ring.authenticate(ADMIN)
    assert p is not None and p.role == Role.admin and ADMIN not in p.key_id
    assert ring.authenticate(PORTAL).role == Role.portal  # type: ignore[union-attr]
    assert ring.authenticate("") is None and ring.authenticate(None) is None and ring.authenticate(ADMIN + "x") is None


@pytest.mark.parametrize(
    "keys",
    [
        {"admin": ["k" * 20], "counsellor": "c" * 20},
        {"k" * 20: "admin", "p" * 20: "portal"},
    ],
)
def test_both_key_layouts_are_read(tmp_path: Path, keys: dict[str, Any]) -> None:
    ring = KeyRing.from_settings(make_settings(tmp_path, api_keys=keys, environment="production"))
    assert ring.authenticate("k" * 20).role == Role.admin  # type: ignore[union-attr]


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOMMENDER_API_KEYS", '{"admin": ["%s"], "portal": ["%s"]}' % (ADMIN, PORTAL))
    ring = KeyRing.from_settings(Settings())
    assert ring.authenticate(PORTAL).role == Role.portal  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({}, "RECOMMENDER_API_KEYS is empty"),
        ({"admin": ["dev-admin-key"]}, "placeholder"),
        ({"admin": ["changeme"]}, "placeholder"),
        ({"admin": ["short"]}, "at least"),
        ({"admin": [""]}, "placeholder"),
    ],
)
def test_production_refuses_missing_or_placeholder_keys(tmp_path: Path, keys: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_app(make_settings(tmp_path, api_keys=keys, environment="production"))


def test_unknown_role_or_shared_key_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="role"):
        create_app(make_settings(tmp_path, api_keys={"superuser": ["x" * 20]}))
    with pytest.raises(ConfigError, match="several roles"):
        create_app(make_settings(tmp_path, api_keys={"admin": ["x" * 20], "portal": ["x" * 20]}))


def test_development_without_keys_uses_the_documented_dev_keys(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, api_keys={}), loader=fake_loader)
    with TestClient(app) as c:
        assert c.get("/v1/workers", headers={"X-API-Key": DEV_KEYS["counsellor"][0]}).status_code == 200
        assert c.get("/v1/workers", headers={"X-API-Key": DEV_KEYS["portal"][0]}).status_code == 403


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, rate_limit_per_minute=3)
    with TestClient(create_app(settings, loader=fake_loader)) as c:
        codes = [c.get("/v1/workers", headers=headers("admin")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/v1/workers", headers=headers("admin"))
        assert r.status_code == 429 and r.json()["code"] == "rate_limited"
        assert int(r.headers["Retry-After"]) >= 1
        # per key: another key still has its own bucket
        assert c.get("/v1/workers", headers=headers("counsellor")).status_code == 200


def test_token_bucket_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.take("a") == 0 for _ in range(60))
    wait = limiter.take("a")
    assert 0 < wait <= 1.0
    now[0] += 1.0
    assert limiter.take("a") == 0
    assert RateLimiter(0).take("a") == 0  # 0 = no limit


def test_oversized_body_is_413(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_body_bytes=2048)
    with TestClient(create_app(settings, loader=fake_loader)) as c:
        big = {"profile": {**PROFILE, "skills": ["电焊" * 50] * 40}}
        r = c.post("/v1/recommendations/jobs", json=big, headers=headers("portal"))
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            for _ in range(10):
                yield b"x" * 1000

        r = c.post("/v1/imports", content=chunks(), headers={**headers("admin"), "Content-Type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_cors_is_off_by_default_and_on_when_configured(tmp_path: Path) -> None:
    pre = {"Origin": "https://portal.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-API-Key"}
    with TestClient(create_app(make_settings(tmp_path), loader=fake_loader)) as c:
        r = c.options("/v1/recommendations/jobs", headers=pre)
        assert "access-control-allow-origin" not in r.headers
    with TestClient(create_app(make_settings(tmp_path, cors_origins=["https://portal.example"]), loader=fake_loader)) as c:
        r = c.options("/v1/recommendations/jobs", headers=pre)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://portal.example"
