"""``recommender ingest``: import contract files into the store."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from recommender.cli._common import interactive


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "ingest",
        help="import contract files (a folder or files) into the store",
        description=(
            "Import workers, jobs, employers, courses, placements and enrolments (CSV or Parquet, "
            "data contract v1) into the store named by RECOMMENDER_DB. Valid rows land; invalid rows "
            "are reported with file, row, column and reason. Re-importing the same files changes nothing."
        ),
    )
    p.add_argument("paths", nargs="+", type=Path, help="a folder holding contract files, or the files themselves")
    p.add_argument("--db", help="store URL (default: RECOMMENDER_DB or sqlite:///recommender.db)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--max-errors", type=int, default=20, help="errors to print (default 20)")
    p.add_argument(
        "--strict", action="store_true", help="exit with status 3 when any row was rejected (for scripts)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from recommender.ingest import ingest
    from recommender.settings import get_settings
    from recommender.store import Store

    settings = get_settings()
    store = Store(args.db or settings.db)

    def say(name: str) -> None:
        if interactive():
            print(f"importing {name} ...", file=sys.stderr)

    report = ingest(
        args.paths,
        store,
        max_cell_chars=settings.max_cell_chars,
        max_errors=max(args.max_errors, settings.max_errors_reported),
        progress=say,
    )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print(report.format_text(max_errors=args.max_errors))
    store.dispose()
    return 3 if args.strict and report.rejected else 0
