"""Skills, certificates and occupations (CSCO 2022), shipped as CSV data files.

The taxonomy is data, not code: the CSVs in ``recommender/taxonomy/data/`` are
read at start-up, and an optional extension folder with files of the same
names and columns is appended on top, its rows overriding shipped rows with the
same id. That lets an employment service add local skills, certificates or
job-board titles without touching the package (see ``data/README.md``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from recommender.errors import ConfigError, ContractError

__all__ = [
    "Taxonomy",
    "load_taxonomy",
    "split_list",
    "display_name",
    "SKILL_COLUMNS",
    "CERTIFICATE_COLUMNS",
    "ALIAS_COLUMNS",
    "OCCUPATION_COLUMNS",
]

#: Columns of ``skills.csv``; list cells are separated by ``;``.
SKILL_COLUMNS = (
    "skill_id",
    "name_zh",
    "name_en",
    "category",
    "parent_id",
    "synonyms",
    "occupation_codes",
)
#: Columns of ``certificates.csv``.
CERTIFICATE_COLUMNS = (
    "cert_id",
    "name_zh",
    "name_en",
    "kind",
    "level",
    "issuer",
    "synonyms",
    "occupation_codes",
    "skill_ids",
)
#: Columns of ``occupation_aliases.csv`` (colloquial job titles -> CSCO code).
ALIAS_COLUMNS = ("alias", "code", "weight")
#: Columns of ``csco22.csv``.
OCCUPATION_COLUMNS = (
    "level",
    "code",
    "code_num",
    "name",
    "definition",
    "tasks",
    "csco_code_num",
    "alias",
)

_FILES = {
    "skills": ("skills.csv", SKILL_COLUMNS, "skill_id"),
    "certificates": ("certificates.csv", CERTIFICATE_COLUMNS, "cert_id"),
    "occupation_aliases": ("occupation_aliases.csv", ALIAS_COLUMNS, None),
    "csco": ("csco22.csv", OCCUPATION_COLUMNS, "code"),
}
_LIST_COLUMNS = {"synonyms", "occupation_codes", "skill_ids"}


def split_list(cell: object, sep: str = ";") -> tuple[str, ...]:
    """Split a list cell into stripped, non-empty items (empty for NaN/None)."""
    if cell is None or (isinstance(cell, float) and cell != cell):
        return ()
    return tuple(x.strip() for x in str(cell).split(sep) if x.strip())


def display_name(name: str) -> str:
    """CSCO name without the trailing green (``L``) / digital (``S``) marker."""
    name = str(name).strip()
    for suffix in ("L/S", "L", "S"):
        if name.endswith(suffix) and len(name) > len(suffix) and not name[-len(suffix) - 1].isascii():
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True, eq=False)
class Taxonomy:
    """The loaded taxonomy: four DataFrames plus a content hash.

    * ``skills``: one row per skill; ``synonyms`` and ``occupation_codes`` are tuples.
    * ``certificates``: one row per certificate; ``synonyms``, ``occupation_codes``
      and ``skill_ids`` are tuples.
    * ``occupations``: the CSCO 2022 detailed occupations (level 4), one row per
      code, with display ``name``, ``raw_name``, ``green``/``digital`` flags and
      ``aliases`` (tuple of job-board titles).
    * ``groups``: every CSCO row (levels 1-4), one row per code, same columns.
    * ``occupation_aliases``: colloquial titles (``alias``, ``code``, ``weight``).
    """

    skills: pd.DataFrame
    certificates: pd.DataFrame
    occupations: pd.DataFrame
    groups: pd.DataFrame
    occupation_aliases: pd.DataFrame
    version: str = field(default="")

    def skill_name(self, skill_id: str) -> str:
        """Chinese name of a skill id (the id itself if unknown)."""
        row = self.skills.loc[self.skills["skill_id"] == skill_id]
        return str(row["name_zh"].iloc[0]) if len(row) else skill_id

    def occupation_name(self, code: str) -> str:
        """Display name of any CSCO code (empty if unknown)."""
        row = self.groups.loc[self.groups["code"] == code]
        return str(row["name"].iloc[0]) if len(row) else ""


def _data_dir() -> Path:
    return Path(str(resources.files("recommender.taxonomy") / "data"))


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ContractError(f"cannot read taxonomy file {path}: {exc}") from exc
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ContractError(
            f"taxonomy file {path} lacks column(s) {', '.join(missing)}; "
            f"expected the columns {', '.join(columns)}"
        )
    return df[list(columns)].map(lambda v: v.strip() if isinstance(v, str) else v)


def _merge(base: pd.DataFrame, extra: pd.DataFrame, key: str | None) -> pd.DataFrame:
    """Append ``extra``; rows with an id already present replace the shipped row."""
    merged = pd.concat([base, extra], ignore_index=True)
    if key is None:
        return merged.drop_duplicates(keep="last").reset_index(drop=True)
    keys = merged[key]
    keep = ~keys.duplicated(keep="last") | keys.eq("")
    # Keep the first position of an overridden id so the shipped order survives.
    last = merged.loc[keep]
    order = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    return (
        last.assign(_order=last[key].map(order))
        .sort_values("_order", kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _occupation_frame(csco: pd.DataFrame) -> pd.DataFrame:
    df = csco.drop_duplicates().copy()
    df["level"] = pd.to_numeric(df["level"], errors="coerce").fillna(4).astype(int)
    # A few codes appear at level 3 and 4 (a group with one occupation): keep the deepest.
    df = df.sort_values("level", kind="stable").drop_duplicates("code", keep="last")
    df = df.sort_values("code", kind="stable").reset_index(drop=True)
    df["raw_name"] = df["name"]
    df["name"] = df["raw_name"].map(display_name)
    df["green"] = df["raw_name"].str.contains(r"L(?:/S)?$", regex=True)
    df["digital"] = df["raw_name"].str.contains(r"(?:L/)?S$", regex=True)
    df["aliases"] = df["alias"].map(lambda s: split_list(s, ","))
    return df.drop(columns=["alias"])


def load_taxonomy(extra_dir: Path | str | None = None) -> Taxonomy:
    """Load the shipped taxonomy, plus an optional extension folder.

    ``extra_dir`` may hold any of ``skills.csv``, ``certificates.csv``,
    ``occupation_aliases.csv`` and ``csco22.csv`` with the shipped columns; their
    rows are appended and override shipped rows with the same id (``skill_id``,
    ``cert_id``, ``code``). The caller decides where the folder comes from (the
    ``RECOMMENDER_TAXONOMY_EXTRA`` setting), so this module never reads the
    environment.
    """
    base = _data_dir()
    extra = Path(extra_dir) if extra_dir is not None else None
    if extra is not None and not extra.is_dir():
        raise ConfigError(f"taxonomy extension folder {extra} does not exist or is not a folder")
    frames: dict[str, pd.DataFrame] = {}
    digest = hashlib.sha256()
    for name, (filename, columns, key) in _FILES.items():
        path = base / filename
        df = _read(path, columns)
        digest.update(path.read_bytes())
        if extra is not None and (extra / filename).is_file():
            df = _merge(df, _read(extra / filename, columns), key)
            digest.update((extra / filename).read_bytes())
        frames[name] = df

    skills = frames["skills"].copy()
    for col in ("synonyms", "occupation_codes"):
        skills[col] = skills[col].map(split_list)
    certs = frames["certificates"].copy()
    for col in ("synonyms", "occupation_codes", "skill_ids"):
        certs[col] = certs[col].map(split_list)
    aliases = frames["occupation_aliases"].copy()
    aliases["weight"] = pd.to_numeric(aliases["weight"], errors="coerce").fillna(1.0).clip(0.0, 1.0)
    groups = _occupation_frame(frames["csco"])
    occupations = groups.loc[groups["level"] == 4].reset_index(drop=True)
    return Taxonomy(
        skills=skills,
        certificates=certs,
        occupations=occupations,
        groups=groups,
        occupation_aliases=aliases,
        version=digest.hexdigest()[:12],
    )
