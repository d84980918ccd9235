"""A calibrated synthetic world of migrant workers, jobs, employers and training courses.

``generate_world`` writes the six contract files for a world of any size;
``calibration_table`` checks a written world against the NBS 2023 migrant
worker survey. The modules each do one job:

- ``vocabulary``  the world's own job types, skills, certificates and courses
- ``geography``   real places (via ``recommender.regions``), homes and destinations
- ``population``  workers, calibrated by quota
- ``market``      employers, jobs and courses where the workers are
- ``behaviour``   the hidden utility model and the referral outcomes
- ``surface``     how everything is written (synonyms, typos, noise)
- ``writer``      the contract files
- ``calibration`` targets with their source, and the check

See docs/world.md.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from recommender.errors import ConfigError
from recommender.world.calibration import SOURCE, TARGETS, calibration_table

if TYPE_CHECKING:
    from recommender.world.behaviour import Outcomes
    from recommender.world.geography import Geography
    from recommender.world.market import Market
    from recommender.world.population import Population

__all__ = ["SOURCE", "TARGETS", "World", "build_world", "calibration_table", "generate_world"]


@dataclass
class World:
    """A generated world in memory, with its hidden state (latent ids, utilities' inputs)."""

    geography: Geography
    population: Population
    market: Market
    outcomes: Outcomes
    seed: int
    start: dt.date
    months: int


def build_world(
    *, workers: int, seed: int = 0, start: dt.date = dt.date(2024, 1, 1), months: int = 18,
    step: Callable[[str], None] | None = None,
) -> World:
    """Generate a world in memory (``generate_world`` writes one); same arguments, same world."""
    from recommender.world.behaviour import simulate
    from recommender.world.geography import Geography
    from recommender.world.market import generate_market
    from recommender.world.population import generate_population
    from recommender.world.writer import area_names

    if workers < 1:
        raise ConfigError("workers must be at least 1")
    if months < 2:
        raise ConfigError("months must be at least 2 (outcomes need a window)")
    step = step or (lambda label: None)
    geo = Geography()
    step("places")
    pop = generate_population(geo, workers, seed=seed, start=start, months=months)
    step("workers")
    market = generate_market(pop, area_names(geo, pop), seed=seed, start=start, months=months)
    step("jobs and courses")
    outcomes = simulate(geo, pop, market, seed=seed, start=start, months=months, progress=step)
    return World(geo, pop, market, outcomes, seed, start, months)


def generate_world(
    out_dir: Path,
    *,
    workers: int,
    seed: int = 0,
    start: dt.date = dt.date(2024, 1, 1),
    months: int = 18,
    fmt: Literal["csv", "parquet"] = "csv",
    progress: bool = False,
) -> dict[str, int]:
    """Generate a world of ``workers`` workers into ``out_dir``; rows written per file.

    The same arguments always write byte-identical files. Jobs number about
    workers/5 (at least 300), courses workers/25 (at least 60), employers
    jobs/6; outcomes span ``months`` months from ``start``.
    """
    from recommender.world.writer import build_tables, write_tables

    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"unknown format {fmt!r}: use 'csv' or 'parquet'")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=7, desc="world", unit="stage", file=sys.stderr, leave=False)

    def step(label: str) -> None:
        if bar is not None:
            bar.set_postfix_str(label)
            bar.update(1)

    world = build_world(workers=workers, seed=seed, start=start, months=months, step=step)
    tables = build_tables(world.geography, world.population, world.market, world.outcomes, seed=seed)
    step("text")
    counts = write_tables(tables, Path(out_dir), fmt)
    step("written")
    if bar is not None:
        bar.close()
    return counts
