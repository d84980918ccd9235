"""First start: an empty store gets the sample world, an empty registry a trained model."""

from __future__ import annotations

import pytest

from recommender.bootstrap import ensure_model, ensure_sample_data
from recommender.registry import Registry
from recommender.store import Store


@pytest.mark.slow
def test_first_start_imports_and_trains_once(tmp_path, samples_dir):
    store = Store(f"sqlite:///{tmp_path / 'first.db'}")
    registry = Registry(tmp_path / "models")
    report = ensure_sample_data(store, samples_dir)
    assert report is not None and report.rejected == 0
    assert ensure_sample_data(store, samples_dir) is None  # never imports twice
    mv = ensure_model(store, registry)
    assert mv is not None and registry.promoted() == mv.version
    assert ensure_model(store, registry) is None  # never retrains a promoted registry
    store.dispose()


def test_no_model_without_outcomes(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    assert ensure_model(store, Registry(tmp_path / "models")) is None
    store.dispose()
