"""Constants and the live-server handle shared by the e2e fixtures and tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COUNSELLOR = "e2e-counsellor-key-0123456789"
ADMIN = "e2e-admin-key-0123456789abcdef"
PORTAL = "e2e-portal-key-0123456789abcd"


@dataclass
class LiveServer:
    """The app running under uvicorn: its base URL and settings."""

    url: str
    settings: Any

    def client(self, key: str = COUNSELLOR) -> Any:
        import httpx

        return httpx.Client(base_url=self.url, headers={"X-API-Key": key}, timeout=60)
