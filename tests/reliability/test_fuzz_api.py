"""Schemathesis against the app's own ``/openapi.json``: every operation, every role's key.

The app runs in-process (Starlette's TestClient over the ASGI app, lifespan
included) on a private copy of the sample world with the real trained model.
For each operation and role, hypothesis draws schema-valid and schema-invalid
requests (``positive`` and ``negative`` generation); every answer must be
below 500 and conform to the documented response schema and content type.

Examples per (operation, role, mode) default to a CI-sized bound; set
``RELIABILITY_FUZZ_EXAMPLES`` to go deeper locally.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance  # noqa: E402

from apitest_support import KEYS, make_settings  # noqa: E402
from api.main import create_app  # noqa: E402

EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "12"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
ROLES = ("admin", "counsellor", "portal")


def _schema_of(app: Any) -> Any:
    return schemathesis.openapi.from_dict(app.openapi())


def _cases() -> list[tuple[str, GenerationMode]]:
    """(operation, mode) pairs; negative only where the request has something to break."""
    app = create_app(make_settings(Path(tempfile.gettempdir()) / "never-used"))  # no lifespan: touches nothing on disk
    doc = app.openapi()
    out = []
    for result in _schema_of(app).get_all_operations():
        op = result.ok()
        raw = doc["paths"][op.path][op.method.lower()]
        out.append((op.label, GenerationMode.POSITIVE))
        if raw.get("parameters") or raw.get("requestBody"):
            out.append((op.label, GenerationMode.NEGATIVE))
    return out


@pytest.fixture(scope="module")
def fuzz_app(real_settings) -> Iterator[tuple[TestClient, Any]]:
    settings = real_settings.model_copy(update={"model_poll_seconds": 1.0})
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/readyz").status_code == 200, client.get("/readyz").text
        yield client, schemathesis.openapi.from_dict(client.get("/openapi.json").json())


def send(client: TestClient, case: Any, role: str) -> httpx.Response:
    """The case as one fully materialised request (multipart bodies encoded up front)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers={"X-API-Key": KEYS[role]})
    head = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "authorization"}  # the role's key decides
    data, content = kwargs.get("data"), kwargs.get("content")
    if isinstance(data, (bytes, str)):
        data, content = None, data
    files = kwargs.get("files")
    if files:  # generated form fields may be numbers or JSON; multipart wants str or bytes
        files = [(name, (fn, v if isinstance(v, (bytes, str)) else str(v), *rest)) for name, (fn, v, *rest) in files]
    request = httpx.Request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=head,
        cookies=kwargs.get("cookies"),
        json=kwargs.get("json"),
        content=content,
        data=data,
        files=files,
    )
    body = request.read()
    return client.request(request.method, str(request.url), content=body, headers=dict(request.headers))


@pytest.mark.slow
@pytest.mark.parametrize(("label", "mode"), [pytest.param(label, mode, id=f"{label} {mode.value}") for label, mode in _cases()])
def test_operation_never_fails_and_keeps_its_schema(fuzz_app: tuple[TestClient, Any], label: str, mode: GenerationMode) -> None:
    client, schema = fuzz_app
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().label == label)
    failures: list[str] = []

    @hsettings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
               suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(ROLES))
    def run(case: Any, role: str) -> None:
        response = send(client, case, role)
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # schemathesis raises an ExceptionGroup of failures
            failures.append(f"{role}: {response.status_code} {response.text[:300]}\n{str(exc)[:1500]}")

    run()
    assert not failures, f"{len(failures)} failing requests on {label}; first:\n{failures[0]}"
