"""``recommender prune-served``: cut the served log to its last N days (for cron, or a service run without it)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "prune-served",
        help="delete served-log rows older than N days (default: RECOMMENDER_SERVED_LOG_DAYS)",
        description="Delete the served log's rows older than --days days, in batches. Training reads the log for "
        "its shown-not-taken negatives: keep more days than the training window.",
    )
    p.add_argument("--db", help="store URL (default: RECOMMENDER_DB)")
    p.add_argument("--days", type=int, help="days to keep (default: RECOMMENDER_SERVED_LOG_DAYS)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from recommender import served_log
    from recommender.settings import get_settings
    from recommender.store import Store

    settings = get_settings()
    days = args.days if args.days is not None else settings.served_log_days
    if days is None or days < 1:
        print("error: say how many days to keep: --days N (N >= 1) or RECOMMENDER_SERVED_LOG_DAYS", file=sys.stderr)
        return 2
    store = Store(args.db or settings.db)
    cutoff = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=days)
    n = served_log.prune(store, cutoff)
    print(f"served log: {n:,} rows served before {cutoff:%Y-%m-%d %H:%M} UTC deleted")
    store.dispose()
    return 0
