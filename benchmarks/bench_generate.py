"""Throughput and peak memory of the synthetic world generator.

    python benchmarks/bench_generate.py [--workers 1000000] [--seed 0] [--format csv|parquet] [--out DIR] [--check]

Generates a world of N workers (default one million) stage by stage and
prints the seconds per stage, rows written per file, rows per second (all
six files) and the process's peak resident memory. With ``--check`` it also
times the calibration check on the written files. The world goes to a
temporary folder unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from recommender.world import build_world, calibration_table
from recommender.world.writer import build_tables, write_tables


def _peak_gb() -> float:
    """Peak resident set size of this process in GB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv", dest="fmt")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--check", action="store_true", help="also time calibration_table on the files")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        marks: list[tuple[str, float]] = []
        last = time.perf_counter()
        started = last

        def step(label: str) -> None:
            nonlocal last
            now = time.perf_counter()
            marks.append((label, now - last))
            last = now

        world = build_world(workers=args.workers, seed=args.seed, step=step)
        tables = build_tables(world.geography, world.population, world.market, world.outcomes, seed=args.seed)
        step("text (build tables)")
        counts = write_tables(tables, out, args.fmt)
        step(f"write {args.fmt}")
        total = time.perf_counter() - started
        rows = sum(counts.values())

        print(f"world of {args.workers:,} workers, seed {args.seed}, format {args.fmt}")
        for label, seconds in marks:
            print(f"  {label:<22} {seconds:8.2f} s")
        print(f"  {'total':<22} {total:8.2f} s")
        for name, n in counts.items():
            size = (out / name).stat().st_size / 1e6
            print(f"  {name:<18} {n:>12,} rows {size:>9.1f} MB")
        print(f"rows written: {rows:,}  ->  {rows / total:,.0f} rows/s  ({args.workers / total:,.0f} workers/s)")
        if args.check:
            t = time.perf_counter()
            table = calibration_table(out)
            print(f"calibration check: {time.perf_counter() - t:.2f} s, "
                  f"{int(table['ok'].sum())} of {len(table)} marginals within tolerance")
        print(f"peak memory: {_peak_gb():.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
