"""Fixtures: a tmp SQLite store with a small world, a tmp registry, and a running app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from apitest_support import fake_loader, make_settings, promoted_world
from api.main import create_app
from recommender.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def world(tmp_path: Path, settings: Settings) -> Settings:
    """The settings, with the small world imported into the store and model v1 promoted."""
    return promoted_world(settings, tmp_path)


@pytest.fixture
def client(world: Settings) -> Iterator[TestClient]:
    app = create_app(world, loader=fake_loader)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def empty_client(settings: Settings) -> Iterator[TestClient]:
    """An app over an empty store with no model promoted."""
    app = create_app(settings, loader=fake_loader)
    with TestClient(app) as c:
        yield c
