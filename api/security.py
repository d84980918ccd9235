"""API keys with roles, and a per-key rate limit.

Keys come from ``Settings.api_keys`` and are kept only as SHA-256 digests;
a presented key is hashed and compared with ``hmac.compare_digest`` against
every stored digest, so neither the keys nor timing reveal anything. Roles:

- ``portal``: recommendations for inline profiles only (portals hold their
  own profiles; they never read stored records or look workers up by id);
- ``counsellor``: read records, recommendations by id or profile, outcomes;
- ``admin``: everything, including imports, record edits and models.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from recommender.errors import ConfigError
from recommender.settings import Settings

log = logging.getLogger("api")


class Role(StrEnum):
    portal = "portal"
    counsellor = "counsellor"
    admin = "admin"


class Action(StrEnum):
    """What a route does; each maps to the roles allowed to do it."""

    recommend_profile = "recommend_profile"
    recommend_by_id = "recommend_by_id"
    read_records = "read_records"
    write_records = "write_records"
    record_outcomes = "record_outcomes"
    import_files = "import_files"
    manage_models = "manage_models"


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.recommend_profile: frozenset({Role.portal, Role.counsellor, Role.admin}),
    Action.recommend_by_id: frozenset({Role.counsellor, Role.admin}),
    Action.read_records: frozenset({Role.counsellor, Role.admin}),
    Action.write_records: frozenset({Role.admin}),
    Action.record_outcomes: frozenset({Role.counsellor, Role.admin}),
    Action.import_files: frozenset({Role.admin}),
    Action.manage_models: frozenset({Role.admin}),
}

# Documented development keys: used only when environment == development and
# no keys are configured, and refused in production.
DEV_KEYS: dict[str, list[str]] = {
    "admin": ["dev-admin-key"],
    "counsellor": ["dev-counsellor-key"],
    "portal": ["dev-portal-key"],
}
_PLACEHOLDERS = frozenset(
    {"", "changeme", "change-me", "changethis", "secret", "password", "apikey", "api-key", "test", "xxx", "todo"}
    | {k for keys in DEV_KEYS.values() for k in keys}
)
MIN_KEY_CHARS = 16


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def _pairs(raw: Mapping[str, list[str] | str]) -> list[tuple[str, Role]]:
    """(key, role) pairs from either ``role -> keys`` or ``key -> role``."""
    roles = {r.value for r in Role}
    out: list[tuple[str, Role]] = []
    for name, value in raw.items():
        if name in roles:
            keys = [value] if isinstance(value, str) else list(value)
            out.extend((str(k), Role(name)) for k in keys)
        elif isinstance(value, str) and value in roles:
            out.append((name, Role(value)))
        else:
            raise ConfigError(
                f"RECOMMENDER_API_KEYS: {name[:4]}…: expected role -> list of keys or key -> role, "
                f"with roles among {', '.join(sorted(roles))}"
            )
    return out


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the role, and an opaque key id for rate limits and logs."""

    role: Role
    key_id: str  # first hex digits of the key's digest, never the key


class KeyRing:
    """Hashed API keys and their roles."""

    def __init__(self, pairs: list[tuple[str, Role]]) -> None:
        self._entries: list[tuple[bytes, Role]] = [(_digest(k), role) for k, role in pairs]

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        """The configured keys; in production, refuse none or placeholder ones."""
        pairs = _pairs(settings.api_keys)
        if settings.environment == "production":
            if not pairs:
                raise ConfigError(
                    "RECOMMENDER_API_KEYS is empty: set it to JSON such as "
                    '{"admin": ["<long random key>"], "counsellor": [...], "portal": [...]} before running in production'
                )
            weak = sorted({role.value for key, role in pairs if key.strip().lower() in _PLACEHOLDERS or len(key) < MIN_KEY_CHARS})
            if weak:
                raise ConfigError(
                    f"RECOMMENDER_API_KEYS has placeholder or short keys for role(s) {', '.join(weak)}: "
                    f"use random keys of at least {MIN_KEY_CHARS} characters in production "
                    "(for example `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
                )
        elif not pairs:
            log.warning("no RECOMMENDER_API_KEYS set: using the development keys %s (refused in production)", DEV_KEYS)
            pairs = _pairs(DEV_KEYS)
        if any(not key for key, _ in pairs):
            raise ConfigError("RECOMMENDER_API_KEYS contains an empty key")
        roles_of: dict[str, set[Role]] = {}
        for key, role in pairs:
            roles_of.setdefault(key, set()).add(role)
        clash = sorted({r.value for roles in roles_of.values() if len(roles) > 1 for r in roles})
        if clash:
            raise ConfigError(f"RECOMMENDER_API_KEYS gives one key several roles ({', '.join(clash)}): give each role its own keys")
        return cls(pairs)

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(self, key: str | None) -> Principal | None:
        """The caller behind ``key``, or None. Every stored digest is compared."""
        if not key:
            return None
        digest = _digest(key)
        found: Role | None = None
        for stored, role in self._entries:
            if hmac.compare_digest(stored, digest):
                found = role
        if found is None:
            return None
        return Principal(found, digest.hex()[:12])


class RateLimiter:
    """Token bucket per key, in memory (one bucket set per process).

    ``per_minute`` tokens refill evenly over a minute, and a burst of up to
    ``per_minute`` requests is allowed. 0 turns the limit off.
    """

    def __init__(self, per_minute: int, *, clock: callable = time.monotonic) -> None:  # type: ignore[valid-type]
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str) -> float:
        """Spend one token; returns 0 when allowed, else the seconds to wait."""
        if self.capacity <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
