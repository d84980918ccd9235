"""One error family for the whole library.

Callers (CLI, API) catch ``RecommenderError`` and turn it into a message or a
JSON error with a stable ``code``; nothing else should need to know which
module raised it.
"""

from __future__ import annotations


class RecommenderError(Exception):
    """Base of every error the library raises on purpose."""

    code: str = "error"


class ConfigError(RecommenderError, ValueError):
    """A setting is missing or unusable."""

    code = "config_error"


class ContractError(RecommenderError, ValueError):
    """A file or value breaks the data contract as a whole (not one row)."""

    code = "contract_error"


class UnknownRegionError(RecommenderError, LookupError):
    """A region code or name that cannot be resolved to a real division."""

    code = "unknown_region"


class NotFoundError(RecommenderError, LookupError):
    """A record (worker, job, model version...) that does not exist."""

    code = "not_found"
