"""The FastAPI application (routes land with the service issue).

Built by ``create_app`` so tests and ``recommender serve`` get a fresh app with
their own settings; nothing is loaded at import time.
"""

from __future__ import annotations

from fastapi import FastAPI

from recommender import __version__
from recommender.settings import Settings, get_settings
from recommender.store import Store


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="Job and training recommender", version=__version__)
    store = Store(settings.db)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/summary", tags=["ops"])
    def summary() -> dict[str, int]:
        """Rows per table in the store."""
        return store.counts()

    return app
