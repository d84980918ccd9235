"""All configuration, read once from the environment.

Nothing else in the project reads ``os.environ``: modules take a ``Settings``
(or the value they need) as an argument, and tests build their own.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Project settings; each field maps to ``RECOMMENDER_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="RECOMMENDER_", extra="ignore")

    db: str = Field(
        default="sqlite:///recommender.db",
        description="SQLAlchemy URL of the store (SQLite file by default, PostgreSQL later).",
    )
    models: Path = Field(default=Path("models"), description="Folder of the model registry.")
    max_cell_chars: int = Field(
        default=10_000, description="Longest accepted cell of an imported file, in characters."
    )
    max_errors_reported: int = Field(
        default=1_000, description="How many row errors an import report keeps in full."
    )
    batch_rows: int = Field(default=50_000, description="Rows per chunk when writing the store.")
    taxonomy_extra: Path | None = Field(
        default=None, description="Folder of extra taxonomy CSVs (skills, certificates, aliases) merged over the shipped ones."
    )
    age_policy: str = Field(default="strict", description="Posted age limits: `strict` filters, `flag` keeps and marks.")
    older_worker_weight: float = Field(default=1.0, ge=0, description="Older-worker assistance strength (0 = off).")
    older_worker_age: int = Field(default=50, description="Age from which older-worker assistance applies.")
    max_candidates: int = Field(default=300, ge=10, description="Candidates kept by the pre-score for the ranker.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()``)."""
    return Settings()
