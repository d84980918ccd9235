"""``recommender status``: what the store holds."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("status", help="show the store's row counts")
    p.add_argument("--db", help="store URL (default: RECOMMENDER_DB)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from recommender import served_log
    from recommender.settings import get_settings
    from recommender.store import Store

    settings = get_settings()
    store = Store(args.db or settings.db)
    print(f"store: {store.engine.url.render_as_string(hide_password=True)}")
    for name, n in store.counts().items():
        print(f"  {name:<12} {n:>10}")
    rows, first, last = served_log.summary(store)
    span = f" (served {first:%Y-%m-%d} to {last:%Y-%m-%d})" if first is not None and last is not None else ""
    keep = f", kept {settings.served_log_days} days" if settings.served_log_days else ", kept without limit"
    print(f"  {'served log':<12} {rows:>10}{span}{keep}")
    store.dispose()
    return 0
