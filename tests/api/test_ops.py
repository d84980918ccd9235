"""Health, readiness, Prometheus metrics, the OpenAPI document, the error shape."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from apitest_support import headers
from api.main import create_app


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready", "store": "ok", "model_version": "v1"}


def test_metrics_exposition(client: TestClient) -> None:
    client.get("/v1/workers/W1", headers=headers("counsellor"))
    client.get("/v1/workers/W2", headers=headers("counsellor"))
    client.get("/v1/workers/W1")
    client.get("/no/such/path")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'recommender_http_requests_total{method="GET",route="/v1/workers/{worker_id}",status="200"} 2' in text
    assert 'recommender_http_requests_total{method="GET",route="/v1/workers/{worker_id}",status="401"} 1' in text
    assert 'route="unmatched",status="404"' in text
    assert 'recommender_http_request_duration_seconds_bucket{method="GET",route="/v1/workers/{worker_id}",le="+Inf"} 3' in text
    assert 'recommender_http_request_duration_seconds_count{method="GET",route="/v1/workers/{worker_id}"} 3' in text
    assert 'recommender_model_info{version="v1"} 1' in text and "recommender_model_loaded 1" in text
    # every sample line is "name{labels} value" or "name value"
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            float(value)
            assert name.startswith("recommender_")


def test_openapi_documents_every_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/v1/workers/{worker_id}", "/v1/recommendations/jobs", "/v1/recommendations/batch", "/v1/imports",
                 "/v1/outcomes", "/v1/models/{version}/promote", "/v1/models/rollback", "/healthz", "/readyz", "/metrics"):
        assert path in paths
    assert "multipart/form-data" in paths["/v1/imports"]["post"]["requestBody"]["content"]
    assert {"APIKeyHeader", "HTTPBearer"} <= set(schema["components"]["securitySchemes"])
    assert "ErrorBody" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    r = client.get("/v2/nothing")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.delete("/v1/workers/W1", headers=headers("admin"))
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    r = client.post("/v1/recommendations/jobs", content=b"{not json", headers={**headers("portal"), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"


def test_store_down_is_503_store_unavailable(client: TestClient, tmp_path: Any) -> None:
    import sqlalchemy as sa

    from recommender.store import Store

    down = Store.__new__(Store)  # a store whose database cannot be opened
    down.url = "sqlite:///unreachable"
    down.engine = sa.create_engine(f"sqlite:///file:{tmp_path}/nowhere/x.db?mode=ro&uri=true")
    client.app.state.store = down
    r = client.get("/v1/workers/W1", headers=headers("admin"))
    assert r.status_code == 503 and r.json()["code"] == "store_unavailable" and r.headers["Retry-After"]
    r = client.post("/v1/outcomes", json=[{"worker_id": "W1", "item_type": "job", "item_id": "J1", "outcome": "hired", "date": "2024-01-01"}], headers=headers("admin"))
    assert r.status_code == 503 and r.json()["code"] == "store_unavailable"
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["errors"][0]["loc"] == ["store"]
    # recommendations still answer from memory; the served-log failure is counted, not fatal
    r = client.post("/v1/recommendations/jobs", json={"profile": {"birth_year": 1980, "home_region": "510112"}}, headers=headers("portal"))
    assert r.status_code in (200, 503)


def test_create_app_needs_no_arguments(monkeypatch: Any, tmp_path: Any) -> None:
    from recommender.settings import get_settings

    monkeypatch.setenv("RECOMMENDER_DB", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("RECOMMENDER_MODELS", str(tmp_path / "models"))
    monkeypatch.delenv("RECOMMENDER_API_KEYS", raising=False)
    get_settings.cache_clear()
    try:
        app = create_app()
        with TestClient(app) as c:
            assert c.get("/healthz").status_code == 200
            assert c.get("/readyz").status_code == 503  # no model in a fresh registry
            assert c.get("/v1/workers", headers={"X-API-Key": "dev-counsellor-key"}).json()["count"] == 0
    finally:
        get_settings.cache_clear()
