"""End-to-end fixtures: the app under uvicorn on 127.0.0.1 and headless Chromium driven by Playwright.

The app serves a copy of the sample-world store with the session's trained model
(``sample_store`` and ``trained_registry`` from tests/conftest.py). Browser tests are
marked ``browser`` and skip, with the reason, only when Playwright for Python or a
Chromium binary is missing; CI installs Chromium with ``.ci/setup.d/20-chromium.sh``.

Set ``RECOMMENDER_CHROMIUM`` to use another browser binary, and
``RECOMMENDER_SCREENSHOTS`` to write the screenshots somewhere else than docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e_support import ADMIN, COUNSELLOR, PORTAL, ROOT, LiveServer

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_binary() -> str | None:
    """The Chromium to drive: $RECOMMENDER_CHROMIUM, else the Debian package's, else one on PATH."""
    given = os.environ.get("RECOMMENDER_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install playwright; no browser download needed)"
    if chromium_binary() is None:
        return "no Chromium installed (apt-get install chromium chromium-driver, or set RECOMMENDER_CHROMIUM)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `browser` tests before any fixture runs (no model is trained for tests that cannot run)."""
    reason = browser_missing()
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("browser") is not None and Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    folder = Path(os.environ.get("RECOMMENDER_SCREENSHOTS") or ROOT / "docs" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def live_server(copy_sample_store, trained_registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app under uvicorn on 127.0.0.1, on a free port, in a background thread."""
    import uvicorn

    from api.main import create_app
    from recommender.settings import Settings

    folder = tmp_path_factory.mktemp("e2e")
    settings = Settings(
        db=copy_sample_store(folder / "store.db"),
        models=trained_registry.root,
        api_keys={"counsellor": [COUNSELLOR], "admin": [ADMIN], "portal": [PORTAL]},
        environment="development",
        rate_limit_per_minute=0,
    )
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="e2e-uvicorn", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    live = LiveServer(url, settings)
    deadline = time.monotonic() + 120
    with live.client() as c:
        while True:
            if not thread.is_alive():
                pytest.fail("uvicorn stopped during start-up (see the log above)")
            try:
                if server.started and c.get("/readyz").status_code == 200:
                    break
            except Exception:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not become ready at {url}/readyz within 120 s")
            time.sleep(0.2)
    yield live
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless system Chromium through Playwright (skips with the reason when either is missing)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright for Python is not installed (pip install playwright; no browser download needed)",
    )
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no Chromium installed (apt-get install chromium chromium-driver, or set RECOMMENDER_CHROMIUM)")
    pw = sync_api.sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=binary, headless=True, args=CHROMIUM_ARGS)
    except Exception:
        pw.stop()
        raise
    yield b
    b.close()
    pw.stop()


def _context(browser: Any, viewport: dict[str, int], live: LiveServer, *, phone: bool = False) -> Any:
    return browser.new_context(
        viewport=viewport, base_url=live.url, locale="zh-CN", timezone_id="Asia/Shanghai",
        device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone,
    )


@pytest.fixture
def desktop(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    ctx = _context(browser, DESKTOP, live_server)
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    yield page
    ctx.close()


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    ctx = _context(browser, PHONE, live_server, phone=True)
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    yield page
    ctx.close()


@pytest.fixture(scope="session")
def demo_worker(live_server: LiveServer) -> str:
    """A sample worker aged 50+ with local and outbound jobs and courses (the page's richest case)."""
    import pandas as pd

    workers = pd.read_csv(ROOT / "data_samples" / "workers.csv", dtype=str)
    year = pd.Timestamp.today().year
    workers["age"] = year - workers["birth_year"].astype(int)
    cands = workers.loc[(workers["mobility"] == "anywhere") & (workers["age"] >= 50) & workers["skills"].notna()]
    fallback = None
    with live_server.client() as c:
        for wid in cands["worker_id"].head(60):
            got = {s: c.post("/v1/recommendations/jobs", json={"worker_id": wid, "k": 5, "scope": s}).json()
                   for s in ("local", "outbound")}
            if not (got["local"].get("items") and got["outbound"].get("items")):
                continue
            courses = c.post("/v1/recommendations/courses", json={"worker_id": wid, "k": 3}).json()
            if courses.get("items"):
                if any(i.get("older_worker_priority") for i in got["local"]["items"]):
                    return wid
                fallback = fallback or wid
    if fallback:
        return fallback
    pytest.fail("no sample worker aged 50+ has local and outbound jobs and courses: check data_samples/")
