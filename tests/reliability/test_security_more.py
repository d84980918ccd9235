"""Security beyond tests/api/test_security.py: keys never kept in plain text, no personal data in logs,
CORS off by default, security headers on every response, limits, and the bundle loader's confinement."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apitest_support import ADMIN, COUNSELLOR, FILES, KEYS, PORTAL, fake_loader, headers, make_settings
from api.main import create_app
from recommender.errors import NotFoundError
from recommender.registry import Registry, RegistryError


def _walk(obj: Any, seen: set[int], depth: int = 0) -> Any:
    """Every string reachable from ``obj`` (attributes, dicts, lists, pydantic fields)."""
    if id(obj) in seen or depth > 8:
        return
    seen.add(id(obj))
    if isinstance(obj, (str, bytes)):
        yield obj if isinstance(obj, str) else obj.decode("latin-1")
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(k, seen, depth + 1)
            yield from _walk(v, seen, depth + 1)
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        for v in obj:
            yield from _walk(v, seen, depth + 1)
        return
    if type(obj).__module__.split(".")[0] in ("api", "recommender", "pydantic", "starlette") or hasattr(obj, "model_dump"):
        values = obj.model_dump() if hasattr(obj, "model_dump") else {}
        for name in (*getattr(obj, "__dict__", {}), *getattr(type(obj), "__slots__", ())):
            try:
                values[name] = getattr(obj, name)
            except AttributeError:
                continue
        yield from _walk(values, seen, depth + 1)


def test_the_app_state_never_keeps_plaintext_keys(world) -> None:
    app = create_app(world, loader=fake_loader)
    with TestClient(app) as c:
        assert c.get("/v1/workers", headers=headers("admin")).status_code == 200
        state = dict(app.state._state)
        strings = list(_walk(state, set()))
        assert strings, "walked nothing"
        for key in (ADMIN, COUNSELLOR, PORTAL):
            assert not any(key in s for s in strings), f"a plaintext key is reachable from app.state: {key[:6]}…"
        # the keyring compares digests in constant time
        import inspect

        from api.security import KeyRing

        assert "compare_digest" in inspect.getsource(KeyRing.authenticate)


def test_no_personal_data_in_the_logs_of_a_full_session(real_settings, caplog: pytest.LogCaptureFixture) -> None:
    """Imports, recommendations by id and by profile, outcomes, errors: all at DEBUG, no worker field values logged."""
    secret_skill = "独门绝技刺绣七十二针"
    secret_wage = "87654"
    worker_csv = (
        "worker_id,birth_year,home_region,current_region,skills,expected_wage\n"
        f"PRIV1,1961,四川省成都市武侯区,广东省深圳市南山区,{secret_skill};电焊,{secret_wage}\n"
        "PRIV2,1958,510112,,,\n"
        "110101199003071234,1970,510112,,,\n"  # a national ID number: refused, must not be logged either
    )
    settings = real_settings.model_copy(update={"model_poll_seconds": 0.1})
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    with TestClient(create_app(settings)) as c:
        A, C, P = headers("admin"), headers("counsellor"), headers("portal")
        r = c.post("/v1/imports", files=[("files", ("workers.csv", worker_csv.encode(), "text/csv"))], headers=A)
        assert r.status_code == 200 and r.json()["files"][0]["taken"] == 2
        assert c.post("/v1/recommendations/jobs", json={"worker_id": "PRIV1"}, headers=C).status_code == 200
        assert c.post("/v1/recommendations/courses", json={"worker_id": "PRIV1"}, headers=C).status_code == 200
        profile = {"birth_year": 1961, "home_region": "四川省成都市武侯区", "skills": [secret_skill], "expected_wage": int(secret_wage)}
        assert c.post("/v1/recommendations/jobs", json={"profile": profile}, headers=P).status_code == 200
        assert c.post("/v1/recommendations/batch", json={"workers": ["PRIV1", profile, "PRIV404"]}, headers=C).status_code == 200
        jobs = c.get("/v1/jobs", params={"limit": 1}, headers=C).json()["data"]
        outcome = [{"worker_id": "PRIV1", "item_type": "job", "item_id": jobs[0]["job_id"], "outcome": "applied", "date": "2024-05-03"}]
        assert c.post("/v1/outcomes", json=outcome, headers=C).status_code == 200
        c.put("/v1/workers/PRIV1", json={"birth_year": "nineteen", "home_region": "四川省成都市武侯区", "skills": secret_skill}, headers=A)
        c.post("/v1/recommendations/jobs", json={"profile": {**profile, "home_region": "亚特兰蒂斯"}}, headers=P)
        assert c.get("/v1/workers/PRIV1", headers=C).json()["expected_wage"] == int(secret_wage)
    text = "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "no log records captured"
    for value in (secret_skill, secret_wage, "刺绣", "武侯区", "南山区", "亚特兰蒂斯", "110101199003071234", "PRIV1,1961", "1961"):
        assert value not in text, f"{value!r} appears in the logs"


def test_cors_is_off_by_default(client: TestClient) -> None:
    origin = {"Origin": "https://evil.example"}
    for r in (
        client.get("/v1/workers", headers={**origin, **headers("admin")}),
        client.post("/v1/recommendations/jobs", json={"profile": {"birth_year": 1980, "home_region": "510112"}}, headers={**origin, **headers("portal")}),
        client.options("/v1/recommendations/jobs", headers={**origin, "Access-Control-Request-Method": "POST"}),
    ):
        assert not any(h.lower().startswith("access-control-") for h in r.headers), dict(r.headers)


@pytest.mark.parametrize(
    ("method", "path", "role", "body"),
    [
        ("GET", "/healthz", None, None),
        ("GET", "/readyz", None, None),
        ("GET", "/metrics", None, None),
        ("GET", "/openapi.json", None, None),
        ("GET", "/v1/workers/W1", "admin", None),
        ("GET", "/v1/workers/W1", None, None),  # 401
        ("GET", "/v1/workers/W1", "portal", None),  # 403
        ("GET", "/v1/nowhere", "admin", None),  # 404
        ("POST", "/v1/recommendations/jobs", "portal", {"profile": {"birth_year": 1980, "home_region": "510112"}}),
        ("POST", "/v1/recommendations/jobs", "portal", {"profile": {}}),  # 422
        ("POST", "/v1/imports", "admin", "files"),
    ],
)
def test_security_headers_on_every_response(client: TestClient, method: str, path: str, role: str | None, body: Any) -> None:
    kwargs: dict[str, Any] = {"headers": headers(role)}
    if body == "files":
        kwargs["files"] = [("files", ("employers.csv", io.BytesIO(FILES["employers"].encode()), "text/csv"))]
    elif body is not None:
        kwargs["json"] = body
    r = client.request(method, path, **kwargs)
    assert r.headers["x-content-type-options"] == "nosniff", (r.status_code, dict(r.headers))
    assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in r.headers["cache-control"]


def test_security_headers_on_a_413_from_the_body_limit(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, max_body_bytes=1024), loader=fake_loader)) as c:
        r = c.post("/v1/imports", content=b"x" * 5000, headers={**headers("admin"), "Content-Type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413 and r.headers["x-content-type-options"] == "nosniff"


def test_batch_and_page_limits(tmp_path: Path, world) -> None:
    settings = world.model_copy(update={"max_batch_workers": 5})
    with TestClient(create_app(settings, loader=fake_loader)) as c:
        r = c.post("/v1/recommendations/batch", json={"workers": ["W1"] * 6}, headers=headers("counsellor"))
        assert r.status_code in (413, 422) and r.json()["code"], r.text
        assert c.post("/v1/recommendations/batch", json={"workers": ["W1"] * 5}, headers=headers("counsellor")).status_code == 200
        assert c.get("/v1/workers", params={"limit": 1001}, headers=headers("admin")).status_code == 422
        r = c.post("/v1/recommendations/jobs", json={"profile": {"birth_year": 1980, "home_region": "510112"}, "k": 10_000}, headers=headers("portal"))
        assert r.status_code == 422


# ---- the bundle loader stays inside the registry -----------------------------------------------------


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    reg = Registry(tmp_path / "models")
    reg.save({"ok": True}, {"metrics": {}}, version="v1")
    reg.promote("v1")
    return reg


@pytest.mark.parametrize("version", ["../x", "..", "../../etc", "/etc", "v1/../../x", ".hidden", "", "a/b", "..\\x", "v1\x00"])
def test_load_refuses_versions_outside_the_registry(registry: Registry, tmp_path: Path, version: str) -> None:
    outside = tmp_path / "x"
    outside.mkdir()
    Registry(tmp_path / "elsewhere").save({"evil": True}, {}, version="x")
    with pytest.raises((RegistryError, NotFoundError, ValueError)):
        bundle, _ = registry.load(version) if version else registry.load("..")
        assert bundle != {"evil": True}


def test_load_refuses_a_symlink_pointing_outside(registry: Registry, tmp_path: Path) -> None:
    evil = Registry(tmp_path / "evil").save({"evil": True}, {}, version="bad")
    os.symlink(evil.path, registry.root / "v2")  # a version folder that is a link out of the registry
    with pytest.raises((RegistryError, NotFoundError)):
        registry.load("v2")
    (registry.root / "v3").mkdir()
    (registry.root / "v3" / "manifest.json").write_text("{}")
    os.symlink(evil.path / "bundle.joblib", registry.root / "v3" / "bundle.joblib")  # a bundle file linked out
    with pytest.raises((RegistryError, NotFoundError)):
        registry.load("v3")
    assert registry.load()[0] == {"ok": True}


def test_a_promoted_pointer_naming_an_outside_version_is_refused(registry: Registry, tmp_path: Path) -> None:
    Registry(tmp_path / "evil").save({"evil": True}, {}, version="bad")
    (registry.root / "PROMOTED").write_text('{"version": "../evil/bad"}')
    with pytest.raises((RegistryError, NotFoundError)):
        registry.load()


def test_every_key_in_the_table_is_distinct_and_long() -> None:
    assert len(set(KEYS.values())) == 3 and all(len(k) >= 16 for k in KEYS.values())
