"""First-start set-up for the embedded defaults.

An empty store gets the sample world, and a registry without a promoted model
gets one trained on the store, so that ``recommender serve`` on a fresh machine
serves real recommendations without any preparation. A store that already
holds data and a registry that already has a promoted model are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from recommender.ingest import ingest
from recommender.io.report import ImportReport
from recommender.registry import ModelVersion, Registry
from recommender.store import Store

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "data_samples"


def store_is_empty(store: Store) -> bool:
    return store.count("workers") == 0 and store.count("jobs") == 0


def ensure_sample_data(store: Store, folder: Path | None = None) -> ImportReport | None:
    """Import the sample world into an empty store; return the report, or None if nothing was done."""
    folder = folder or SAMPLE_DATA
    if not store_is_empty(store) or not (folder / "workers.csv").exists():
        return None
    return ingest(folder, store)


def ensure_model(store: Store, registry: Registry, *, progress: Callable[[str], None] | None = None) -> ModelVersion | None:
    """Train and promote a first model when the registry has none; None if one was already promoted."""
    if registry.promoted() is not None:
        return None
    if store.count("placements") == 0:
        return None  # nothing to learn from yet: the service starts and says so at /readyz
    from recommender.snapshot import Snapshot
    from recommender.training.pipeline import train_and_register

    mv, _ = train_and_register(Snapshot.from_store(store, impressions=True), registry, evaluate=False, promote="first", progress=progress)
    return mv
