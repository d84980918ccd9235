"""Fixtures for the reliability tests: a writable copy of the sample world and its trained model.

The session's ``sample_store`` and ``trained_registry`` (tests/conftest.py) are
copied per module so tests here may import, promote and break files freely.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# Reuse the API tests' world, keys and fakes (tests/api/apitest_support.py).
if str(HERE.parent / "api") not in sys.path:
    sys.path.insert(0, str(HERE.parent / "api"))

from apitest_support import make_settings  # noqa: E402

from recommender.settings import Settings  # noqa: E402


@pytest.fixture(scope="module")
def real_settings(copy_sample_store, trained_registry, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over a private copy of the sample world and of the registry holding the trained model."""
    tmp = tmp_path_factory.mktemp("reliable")
    db = copy_sample_store(tmp / "store.db")
    shutil.copytree(trained_registry.root, tmp / "models")
    return make_settings(tmp, db=db, models=tmp / "models")


@pytest.fixture
def world(tmp_path: Path) -> Settings:
    """Settings over a tmp store holding the API tests' small world, with fake model v1 promoted."""
    from apitest_support import promoted_world

    return promoted_world(make_settings(tmp_path), tmp_path)


@pytest.fixture
def client(world: Settings):
    """The app over ``world`` with the fake recommender (fast; the real one is in ``real_settings``)."""
    from apitest_support import fake_loader
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(world, loader=fake_loader)) as c:
        yield c
