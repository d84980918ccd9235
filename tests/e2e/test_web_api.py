"""The page's server side without a browser: headers, session cookie, and /v1/profile/understood."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from e2e_support import ADMIN, COUNSELLOR, PORTAL

MARK = {"X-Requested-With": "recommender-web"}


@pytest.fixture(scope="module")
def client(sample_store, trained_registry) -> Iterator[TestClient]:
    """The app over the sample store (read only here) and the session's trained model."""
    from api.main import create_app
    from recommender.settings import Settings

    settings = Settings(
        db=sample_store.url, models=trained_registry.root, environment="development", rate_limit_per_minute=0,
        api_keys={"counsellor": [COUNSELLOR], "admin": [ADMIN], "portal": [PORTAL]},
    )
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def fresh(client: TestClient) -> Iterator[TestClient]:
    client.cookies.clear()
    yield client
    client.cookies.clear()


def test_page_and_files_carry_security_headers(fresh: TestClient) -> None:
    for url in ("/web/", "/web/static/app.js", "/web/static/app.css"):
        r = fresh.get(url)
        assert r.status_code == 200, url
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-frame-options"] == "DENY"
    page = fresh.get("/web/").text
    assert "<script>" not in page and " style=" not in page and " on" + "click=" not in page
    assert fresh.get("/web", follow_redirects=False).headers["location"] == "/web/"


@pytest.mark.parametrize("name", ["index.py", "..%2Frouter.py", "../router.py", "app.js.map"])
def test_only_the_listed_static_files_are_served(fresh: TestClient, name: str) -> None:
    assert fresh.get(f"/web/static/{name}").status_code == 404


def test_sign_in_sets_an_httponly_cookie_for_counsellors_and_admins_only(fresh: TestClient) -> None:
    assert fresh.post("/web/session", json={"key": COUNSELLOR}).status_code == 403  # no page marker
    assert fresh.post("/web/session", json={"key": "wrong"}, headers=MARK).status_code == 401
    r = fresh.post("/web/session", json={"key": PORTAL}, headers=MARK)
    assert r.status_code == 403 and "counsellor" in r.json()["detail"]
    assert fresh.get("/web/session").status_code == 401

    r = fresh.post("/web/session", json={"key": COUNSELLOR}, headers=MARK)
    assert r.status_code == 200
    assert r.json() == {"role": "counsellor", "can_save_workers": False, "older_worker_age": 50}
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert fresh.get("/web/session").json()["role"] == "counsellor"

    r = fresh.post("/web/session", json={"key": ADMIN}, headers=MARK)
    assert r.json()["can_save_workers"] is True

    assert fresh.delete("/web/session").status_code == 204
    assert fresh.get("/web/session").status_code == 401


def test_the_cookie_works_for_the_api_only_with_the_marker_and_same_origin(fresh: TestClient) -> None:
    fresh.post("/web/session", json={"key": COUNSELLOR}, headers=MARK)
    assert fresh.get("/v1/workers/W0000001").status_code == 401  # a plain cross-site style request
    assert fresh.get("/v1/workers/W0000001", headers=MARK).status_code == 200
    assert fresh.get("/v1/workers/W0000001", headers={**MARK, "Origin": "https://evil.example"}).status_code == 401
    assert fresh.get("/v1/workers/W0000001", headers={**MARK, "Origin": "http://testserver"}).status_code == 200
    # The cookie's role still applies: a counsellor may not write records.
    r = fresh.put("/v1/workers/W0000001", json={"birth_year": 1980, "home_region": "510112"}, headers=MARK)
    assert r.status_code == 403


def test_understood_profile_typed_in_chinese(fresh: TestClient) -> None:
    profile = {"skills": "会电焊，开过叉车；砌墙；喂饭翻身", "certificates": "焊工证", "home_region": "河南省固始县",
               "current_region": "广州市白云区", "birth_year": 1970, "expected_wage": 6000}
    r = fresh.post("/v1/profile/understood", json={"profile": profile, "as_of": "2026-06-01"}, headers={"X-API-Key": PORTAL})
    assert r.status_code == 200, r.text
    u = r.json()
    ids = {s["id"] for s in u["skills"]}
    assert {"welding", "forklift"} <= ids
    assert any(s["id"] is None and s["text"] == "喂饭翻身" for s in u["skills"])
    assert all(0 <= s["confidence"] <= 1 for s in u["skills"])
    assert u["certificates"][0]["id"] == "so_welding" and u["certificates"][0]["name_zh"]
    assert u["home_region"]["code"] == "411525" and u["home_region"]["full_name"] == "河南省信阳市固始县"
    assert u["current_region"]["full_name"].startswith("广东省广州市白云区")
    assert (u["age"], u["age_band"], u["older_worker"]) == (56, "50+", True)


def test_understood_stored_worker_and_errors(fresh: TestClient) -> None:
    c = {"X-API-Key": COUNSELLOR}
    r = fresh.post("/v1/profile/understood", json={"worker_id": "W0000002"}, headers=c)
    assert r.status_code == 200 and r.json()["worker_id"] == "W0000002"
    assert r.json()["home_region"]["code"] == "433125"
    assert fresh.post("/v1/profile/understood", json={"worker_id": "W9999999"}, headers=c).status_code == 404
    assert fresh.post("/v1/profile/understood", json={"worker_id": "W0000002"}, headers={"X-API-Key": PORTAL}).status_code == 403
    assert fresh.post("/v1/profile/understood", json={}, headers=c).status_code == 422
    assert fresh.post("/v1/profile/understood", json={"worker_id": "W0000002"}).status_code == 401
    odd = fresh.post("/v1/profile/understood", json={"profile": {"home_region": "不存在的地方", "birth_year": 1990}}, headers=c)
    assert odd.status_code == 200 and odd.json()["home_region"]["error"]
    assert odd.json()["older_worker"] is False
