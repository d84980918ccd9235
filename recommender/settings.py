"""All configuration, read once from the environment.

Nothing else in the project reads ``os.environ``: modules take a ``Settings``
(or the value they need) as an argument, and tests build their own.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Project settings; each field maps to ``RECOMMENDER_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="RECOMMENDER_", extra="ignore")

    db: str = Field(
        default="sqlite:///recommender.db",
        description="SQLAlchemy URL of the store (SQLite file by default, PostgreSQL later).",
    )
    models: str = Field(
        default="models",
        description="The model registry: a folder, or an fsspec URL (`s3://bucket/models`) shared by every replica and Dask worker.",
    )
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
    max_candidates: int = Field(default=50, ge=10, description="Candidates kept by the pre-score for the ranker.")
    # ---- HTTP service (api/) ------------------------------------------------
    environment: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses empty or placeholder API keys; `development` falls back to the documented dev keys.",
    )
    api_keys: dict[str, list[str] | str] = Field(
        default_factory=dict,
        description=(
            "API keys and their roles (admin, counsellor, portal) as JSON: role -> list of keys "
            '(`{"admin": ["..."], "portal": ["..."]}`) or key -> role. Kept only as SHA-256 hashes in memory.'
        ),
    )
    rate_limit_per_minute: int = Field(default=600, ge=0, description="Requests per minute per API key (token bucket; 0 = no limit).")
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, description="Largest accepted request body (uploads included), in bytes.")
    max_batch_workers: int = Field(default=1_000, ge=1, description="Most workers in one batch recommendation request.")
    compute_threads: int = Field(
        default=1, ge=1, description="Ranking requests one API process works on at once (the rest queue); one per process keeps its core busy without GIL hand-offs."
    )
    max_queued_requests: int = Field(
        default=64, ge=0, description="Ranking requests one API process lets wait for a compute thread; beyond that it answers 503 `overloaded` at once."
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (empty = CORS off).")
    model_poll_seconds: float = Field(default=5.0, gt=0, description="How often the service checks the registry for a newly promoted model.")
    metrics_dir: Path | None = Field(
        default=None,
        description="Folder where the processes of one service publish their metrics so that `/metrics` on any of them reports all (`recommender serve --workers N` sets it).",
    )
    served_log_days: int | None = Field(
        default=None, ge=1,
        description="Days the served log keeps (the service deletes older rows hourly; `recommender prune-served` does it once). "
        "Unset keeps everything; keep more than the training window, since training reads the log for its shown-not-taken negatives.",
    )
    train_shown_not_taken: bool = Field(
        default=True,
        description="Train on the jobs the service showed stored workers that they did not take up (the served log) as negatives. "
        "Turn off where outcomes are not recorded reliably: every unrecorded take-up would count as a refusal.",
    )
    train_cluster: str | None = Field(
        default=None,
        description="Dask cluster for `recommender train`: `local` or a scheduler address (`tcp://host:8786`); unset = one process.",
    )

    @field_validator("models", mode="before")
    @classmethod
    def _registry_text(cls, value: object) -> object:
        """Keep the registry root as text: a ``Path`` would fold ``s3://b`` into ``s3:/b``."""
        return os.fspath(value) if isinstance(value, os.PathLike) else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()``)."""
    return Settings()
