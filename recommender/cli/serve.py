"""``recommender serve``: start the HTTP service on embedded defaults."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "serve",
        help="start the API service (imports the sample world into an empty store first)",
        description="Start the FastAPI service with uvicorn. An empty store is first filled with data_samples/.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.add_argument("--no-bootstrap", action="store_true", help="do not import sample data into an empty store")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from recommender.bootstrap import ensure_sample_data
    from recommender.settings import get_settings
    from recommender.store import Store

    settings = get_settings()
    if not args.no_bootstrap:
        store = Store(settings.db)
        report = ensure_sample_data(store)
        if report is not None:
            print(f"empty store: imported the sample world ({report.taken} rows, {report.rejected} rejected)", file=sys.stderr)
        store.dispose()
    uvicorn.run("api.main:create_app", factory=True, host=args.host, port=args.port, workers=args.workers)
    return 0
