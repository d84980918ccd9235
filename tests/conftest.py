"""Shared fixtures: the sample world imported once, a small model trained once."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "data_samples"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory):
    """A SQLite store holding the sample world (read-only for tests: copy before writing)."""
    from recommender.ingest import ingest
    from recommender.store import Store

    path = tmp_path_factory.mktemp("store") / "samples.db"
    store = Store(f"sqlite:///{path}")
    report = ingest(SAMPLES, store)
    assert report.rejected == 0, report.format_text()
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def copy_sample_store(sample_store):
    """Make a private, writable copy of the sample store (SQLite backup API: consistent while others read)."""
    import sqlite3

    def copy(dst: Path) -> str:
        src = sqlite3.connect(sample_store.url.removeprefix("sqlite:///"))
        out = sqlite3.connect(dst)
        with out:
            src.backup(out)
        src.close()
        out.close()
        return f"sqlite:///{dst}"

    return copy


@pytest.fixture(scope="session")
def trained_registry(sample_store, tmp_path_factory: pytest.TempPathFactory):
    """A registry with one promoted model trained on the sample world (no evaluation run)."""
    from recommender.registry import Registry
    from recommender.snapshot import Snapshot
    from recommender.training.pipeline import TrainConfig, train_and_register

    registry = Registry(tmp_path_factory.mktemp("models"))
    train_and_register(Snapshot.from_store(sample_store), registry, TrainConfig(negatives=6), evaluate=False)
    return registry


@pytest.fixture(scope="session")
def sample_settings(sample_store, trained_registry):
    from recommender.settings import Settings

    return Settings(db=sample_store.url, models=trained_registry.root)


@pytest.fixture(scope="session")
def recommender_service(sample_settings, sample_store):
    from recommender.service import Recommender

    return Recommender.load(sample_settings, store=sample_store)
