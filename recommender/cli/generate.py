"""``recommender generate``: write a calibrated synthetic world, or check one.

    recommender generate --out DIR --workers N --seed S [--format csv|parquet]
                         [--start DATE] [--months M] [--check]
    recommender generate --check DIR

With ``--check`` each calibrated marginal is printed next to its NBS target;
the exit code is 1 if any lands outside its tolerance.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from err


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from err
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``generate`` sub-command."""
    p = subparsers.add_parser(
        "generate",
        help="write a calibrated synthetic world (workers, jobs, courses, outcomes)",
        description="Write the six contract files of a synthetic world calibrated to the NBS 2023 "
        "migrant worker survey, or check a written world against the survey.",
    )
    p.add_argument("--out", type=Path, help="folder to write the world into")
    p.add_argument("--workers", type=_positive, default=10_000, help="number of workers (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same bytes")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", dest="fmt")
    p.add_argument("--start", type=_date, default=dt.date(2024, 1, 1), help="first day of the window (default 2024-01-01)")
    p.add_argument("--months", type=_positive, default=18, help="length of the window in months (default 18)")
    p.add_argument(
        "--check",
        nargs="?",
        const=True,
        default=None,
        metavar="DIR",
        help="print each calibrated marginal next to its target (of DIR, or of --out after generating)",
    )
    p.set_defaults(func=run)


def print_table(table) -> None:  # type: ignore[no-untyped-def]
    """The calibration table as aligned text (diff in points for shares, % for means)."""
    from recommender.world import TARGETS

    print(f"{'group':<12} {'marginal':<42} {'target':>9} {'actual':>9} {'diff':>8}  ok")
    for row, target in zip(table.itertuples(index=False), TARGETS, strict=True):
        diff = f"{row.diff:+.2f}{'pp' if target.is_share else '%'}"
        print(
            f"{row.group:<12} {row.marginal:<42} {row.target:>9.2f} {row.actual:>9.2f} {diff:>8}  "
            f"{'yes' if row.ok else 'NO'}"
        )
    bad = int((~table["ok"]).sum())
    print(f"{len(table) - bad} of {len(table)} marginals within tolerance")


def run(args: argparse.Namespace) -> int:
    """Generate, check, or both; 0 ok, 1 a marginal out of tolerance, 2 bad arguments."""
    from recommender.world import calibration_table, generate_world

    check_dir: Path | None = None
    if isinstance(args.check, str):
        check_dir = Path(args.check)
    elif args.check is True:
        check_dir = args.out
    if args.out is None and check_dir is None:
        print("error: give --out DIR to generate, or --check DIR to check a world", file=sys.stderr)
        return 2

    if args.out is not None:
        started = time.perf_counter()
        counts = generate_world(
            args.out,
            workers=args.workers,
            seed=args.seed,
            start=args.start,
            months=args.months,
            fmt=args.fmt,
            progress=sys.stderr.isatty(),
        )
        seconds = time.perf_counter() - started
        print(f"wrote {args.out} in {seconds:.1f} s")
        for name, rows in counts.items():
            print(f"  {name:<18} {rows:>12,}")

    if check_dir is not None:
        if not check_dir.is_dir():
            print(f"error: {check_dir} is not a folder", file=sys.stderr)
            return 2
        table = calibration_table(check_dir)
        print_table(table)
        return 0 if bool(table["ok"].all()) else 1
    return 0
