"""First-start set-up for the embedded defaults: an empty store gets the sample world.

So that ``recommender serve`` on a fresh machine shows something real without
any preparation, while a store that already holds data is never touched.
"""

from __future__ import annotations

from pathlib import Path

from recommender.ingest import ingest
from recommender.io.report import ImportReport
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
